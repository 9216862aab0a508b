"""Slack, Telegram, Discord, Teams, PagerDuty and ntfy against a real HTTP receiver on
loopback: each sends the payload its service documents, and failures map to DeliveryError."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from jobpulse.notify.base import DeliveryError, NoticeKind
from jobpulse.notify.registry import build_channel
from tests.integration.notify_receivers import HttpReceiver, free_port, sample_notice

BOT_TOKEN = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ_0123"
ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


# One config per HTTP channel kind, pointing at the receiver's base URL.
CONFIGS: dict[str, Callable[[str], dict[str, Any]]] = {
    "slack": lambda base: {"webhook_url": f"{base}/services/T0/B0/secret"},
    "telegram": lambda base: {"bot_token": BOT_TOKEN, "chat_id": -1001234, "api_base_url": base},
    "discord": lambda base: {"webhook_url": f"{base}/api/webhooks/1/tok"},
    "teams": lambda base: {"webhook_url": f"{base}/workflows/run"},
    "pagerduty": lambda base: {"routing_key": ROUTING_KEY, "events_url": f"{base}/v2/enqueue"},
    "ntfy": lambda base: {"server_url": base, "topic": "jobpulse-alerts"},
    "webhook": lambda base: {"url": f"{base}/hook"},
}


def test_slack_posts_text_fallback_and_a_mrkdwn_section(receiver: HttpReceiver) -> None:
    build_channel("slack", CONFIGS["slack"](receiver.url)).send(sample_notice(title="a <b> & c"))

    request = receiver.last
    assert (request.method, request.path) == ("POST", "/services/T0/B0/secret")
    assert request.headers["content-type"] == "application/json"
    payload = request.json()
    assert payload["text"] == "[CRITICAL] a <b> & c"
    [section] = payload["blocks"]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    assert text.startswith("*[CRITICAL] a &lt;b&gt; &amp; c*")
    assert "*Where:* check nightly-backup" in text
    assert "*Since:* 2026-11-24 18:00:05 UTC" in text
    assert "No ping since 17:00" in text
    assert "<http://jobpulse.test/incidents/42|Open in jobpulse>" in text


def test_telegram_calls_send_message_with_html_for_the_chat(receiver: HttpReceiver) -> None:
    config = CONFIGS["telegram"](receiver.url) | {"message_thread_id": 7}
    receiver.reply(200, b'{"ok":true,"result":{"message_id":1}}')
    build_channel("telegram", config).send(sample_notice(summary="x < y"))

    request = receiver.last
    assert request.path == f"/bot{BOT_TOKEN}/sendMessage"
    payload = request.json()
    assert payload["chat_id"] == -1001234
    assert payload["parse_mode"] == "HTML"
    assert payload["message_thread_id"] == 7
    assert payload["link_preview_options"] == {"is_disabled": True}
    assert payload["text"].startswith("<b>[CRITICAL] nightly-backup is down</b>\n")
    assert "x &lt; y" in payload["text"]
    assert '<a href="http://jobpulse.test/incidents/42">Open in jobpulse</a>' in payload["text"]


def test_discord_posts_one_embed_without_mentions(receiver: HttpReceiver) -> None:
    receiver.reply(204)
    build_channel("discord", CONFIGS["discord"](receiver.url) | {"username": "jobpulse"}).send(
        sample_notice(kind=NoticeKind.RESOLVED, summary="@everyone back *up*")
    )

    payload = receiver.last.json()
    assert payload["username"] == "jobpulse"
    assert payload["allowed_mentions"] == {"parse": []}
    [embed] = payload["embeds"]
    assert embed["title"] == "[RESOLVED] nightly-backup is down"
    assert embed["description"] == "@everyone back \\*up\\*"
    assert embed["url"] == "http://jobpulse.test/incidents/42"
    assert embed["color"] == 0x12B76A
    assert embed["timestamp"] == "2026-11-24T18:00:05+00:00"
    assert {"name": "Where", "value": "check nightly-backup", "inline": True} in embed["fields"]
    assert embed["footer"] == {"text": "jobpulse notice ntc_01HZX3"}


def test_teams_posts_an_adaptive_card_by_default(receiver: HttpReceiver) -> None:
    receiver.reply(202)
    build_channel("teams", CONFIGS["teams"](receiver.url)).send(sample_notice())

    payload = receiver.last.json()
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    heading, fact_set, why = card["body"]
    assert heading["text"] == "[CRITICAL] nightly-backup is down"
    assert {"title": "Where", "value": "check nightly-backup"} in fact_set["facts"]
    assert why["text"].startswith("No ping since 17:00")
    assert card["actions"] == [
        {
            "type": "Action.OpenUrl",
            "title": "Open in jobpulse",
            "url": "http://jobpulse.test/incidents/42",
        }
    ]


def test_teams_posts_a_message_card_when_asked(receiver: HttpReceiver) -> None:
    build_channel("teams", CONFIGS["teams"](receiver.url) | {"card": "messagecard"}).send(
        sample_notice(severity="warning")
    )

    payload = receiver.last.json()
    assert payload["@type"] == "MessageCard"
    assert payload["@context"] == "https://schema.org/extensions"
    assert payload["themeColor"] == "F79009"
    assert payload["title"] == "[WARNING] nightly-backup is down"
    assert {"name": "Severity", "value": "warning"} in payload["sections"][0]["facts"]
    [action] = payload["potentialAction"]
    assert action["@type"] == "OpenUri"
    assert action["targets"] == [{"os": "default", "uri": "http://jobpulse.test/incidents/42"}]


@pytest.mark.parametrize("kind", [NoticeKind.FIRING, NoticeKind.REPEAT, NoticeKind.TEST])
def test_pagerduty_triggers_with_the_dedup_key(receiver: HttpReceiver, kind: NoticeKind) -> None:
    receiver.reply(202, b'{"status":"success","dedup_key":"rule-down:check-7"}')
    build_channel("pagerduty", CONFIGS["pagerduty"](receiver.url)).send(sample_notice(kind=kind))

    request = receiver.last
    assert request.path == "/v2/enqueue"
    event = request.json()
    assert event["routing_key"] == ROUTING_KEY
    assert event["event_action"] == "trigger"
    assert event["dedup_key"] == "rule-down:check-7"
    assert event["payload"]["source"] == "check nightly-backup"
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["timestamp"] == "2026-11-24T18:00:05+00:00"
    assert event["payload"]["summary"].endswith("nightly-backup is down")
    assert event["payload"]["custom_details"]["Notice id"] == "ntc_01HZX3"
    assert event["links"] == [
        {"href": "http://jobpulse.test/incidents/42", "text": "Open in jobpulse"}
    ]
    assert event["client"] == "jobpulse"


def test_pagerduty_resolves_with_the_same_dedup_key(receiver: HttpReceiver) -> None:
    receiver.reply(202, b'{"status":"success"}')
    build_channel("pagerduty", CONFIGS["pagerduty"](receiver.url)).send(
        sample_notice(kind=NoticeKind.RESOLVED)
    )

    assert receiver.last.json() == {
        "routing_key": ROUTING_KEY,
        "dedup_key": "rule-down:check-7",
        "event_action": "resolve",
    }


@pytest.mark.parametrize(
    ("severity", "kind", "priority", "tag"),
    [
        ("critical", NoticeKind.FIRING, 5, "rotating_light"),
        ("warning", NoticeKind.FIRING, 4, "warning"),
        ("info", NoticeKind.FIRING, 3, "information_source"),
        ("critical", NoticeKind.RESOLVED, 3, "white_check_mark"),
    ],
)
def test_ntfy_publishes_json_with_priority_by_severity(
    receiver: HttpReceiver, severity: str, kind: NoticeKind, priority: int, tag: str
) -> None:
    build_channel("ntfy", CONFIGS["ntfy"](receiver.url)).send(
        sample_notice(severity=severity, kind=kind)
    )

    request = receiver.last
    assert request.path == "/"
    assert "authorization" not in request.headers
    payload = request.json()
    assert payload["topic"] == "jobpulse-alerts"
    assert payload["priority"] == priority
    assert payload["tags"] == [tag]
    assert payload["click"] == "http://jobpulse.test/incidents/42"
    assert payload["markdown"] is True
    assert payload["title"].endswith("nightly-backup is down")
    assert "**Where:** check nightly-backup" in payload["message"]


def test_ntfy_sends_the_token_and_honours_priority_overrides(receiver: HttpReceiver) -> None:
    config = CONFIGS["ntfy"](receiver.url) | {"token": "tk_abc", "priorities": {"critical": 4}}
    build_channel("ntfy", config).send(sample_notice())

    assert receiver.last.headers["authorization"] == "Bearer tk_abc"
    assert receiver.last.json()["priority"] == 4


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retryable(receiver: HttpReceiver, kind: str, status: int) -> None:
    receiver.reply(status, b"upstream broke")
    with pytest.raises(DeliveryError) as caught:
        build_channel(kind, CONFIGS[kind](receiver.url)).send(sample_notice())
    assert caught.value.retryable is True
    assert f"HTTP {status}" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_not_retryable(receiver: HttpReceiver, kind: str, status: int) -> None:
    receiver.reply(status, b'{"error":"invalid_payload"}')
    with pytest.raises(DeliveryError) as caught:
        build_channel(kind, CONFIGS[kind](receiver.url)).send(sample_notice())
    assert caught.value.retryable is False
    assert "invalid_payload" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_rate_limits_are_retryable_after_the_asked_delay(receiver: HttpReceiver, kind: str) -> None:
    receiver.reply(429, b"slow down", headers={"Retry-After": "7"})
    with pytest.raises(DeliveryError) as caught:
        build_channel(kind, CONFIGS[kind](receiver.url)).send(sample_notice())
    assert caught.value.retryable is True
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    ("kind", "body", "seconds"),
    [
        ("telegram", b'{"ok":false,"error_code":429,"parameters":{"retry_after":12}}', 12.0),
        ("discord", b'{"message":"You are being rate limited.","retry_after":0.5}', 0.5),
        ("slack", b"rate_limited", None),
    ],
)
def test_rate_limit_delays_are_read_from_the_body_without_a_header(
    receiver: HttpReceiver, kind: str, body: bytes, seconds: float | None
) -> None:
    receiver.reply(429, body)
    with pytest.raises(DeliveryError) as caught:
        build_channel(kind, CONFIGS[kind](receiver.url)).send(sample_notice())
    assert caught.value.retryable is True
    assert caught.value.retry_after == seconds


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_a_receiver_that_never_answers_times_out(receiver: HttpReceiver, kind: str) -> None:
    receiver.reply(200, hold=True)
    channel = build_channel(kind, CONFIGS[kind](receiver.url) | {"timeout_seconds": 0.2})
    with pytest.raises(DeliveryError) as caught:
        channel.send(sample_notice())
    assert caught.value.retryable is True
    assert "no answer within 0.2 s" in str(caught.value)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_a_receiver_that_is_down_is_retryable(kind: str) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DeliveryError) as caught:
        build_channel(kind, CONFIGS[kind](base)).send(sample_notice())
    assert caught.value.retryable is True
    assert base not in str(caught.value)


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_errors_never_reveal_the_secret_url(receiver: HttpReceiver, kind: str) -> None:
    receiver.reply(404, b"no_service")
    with pytest.raises(DeliveryError) as caught:
        build_channel(kind, CONFIGS[kind](receiver.url)).send(sample_notice())
    assert receiver.url not in str(caught.value)
    assert BOT_TOKEN not in str(caught.value)
