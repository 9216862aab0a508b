"""Channel configs: validation names the bad field, secrets are known and masked; the one
shared rendering says what, where, since when, why and links to the dashboard."""

from __future__ import annotations

from typing import Any

import pytest

from jobpulse.notify import render
from jobpulse.notify.base import ChannelConfigError, NoticeKind
from jobpulse.notify.registry import (
    CHANNEL_KINDS,
    MASK,
    build_channel,
    config_schema,
    masked_config,
    secret_fields,
)
from jobpulse.notify.webhook import PLACEHOLDER_NAMES
from tests.integration.notify_receivers import sample_notice

EMAIL = {"host": "smtp.example.com", "from": "jobpulse@example.com", "to": ["ops@example.com"]}
TOKEN = "123456:ABCdefGhIJKlmNoPQRsTUVwxyZ_0123"

VALID: dict[str, dict[str, Any]] = {
    "email": EMAIL,
    "slack": {"webhook_url": "https://hooks.slack.com/services/T/B/x"},
    "telegram": {"bot_token": TOKEN, "chat_id": "@ops_alerts"},
    "discord": {"webhook_url": "https://discord.com/api/webhooks/1/x"},
    "teams": {"webhook_url": "https://example.webhook.office.com/x"},
    "pagerduty": {"routing_key": "a" * 32},
    "ntfy": {"topic": "ops"},
    "webhook": {"url": "https://example.com/hook"},
}


def test_every_kind_has_a_valid_example_here() -> None:
    assert set(VALID) == set(CHANNEL_KINDS)


@pytest.mark.parametrize("kind", CHANNEL_KINDS)
def test_a_minimal_config_builds_a_channel_of_its_kind(kind: str) -> None:
    assert build_channel(kind, VALID[kind]).kind == kind


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("email", {**EMAIL, "to": ["not-an-address"]}, "to.0"),
        ("email", {**EMAIL, "to": []}, "to"),
        ("email", {**EMAIL, "from": "x"}, "from"),
        ("email", {**EMAIL, "security": "ssl"}, "security"),
        ("email", {**EMAIL, "port": 0}, "port"),
        ("email", {**EMAIL, "username": "u"}, "password"),
        ("email", {**EMAIL, "password": "p"}, "username"),
        ("email", {**EMAIL, "host": "a\r\nRCPT TO:<x@y>"}, "host"),
        ("email", {**EMAIL, "tls_ca_pem": "garbage"}, "tls_ca_pem"),
        ("email", {"from": "a@b.c", "to": ["c@d.e"]}, "host"),
        ("slack", {}, "webhook_url"),
        ("slack", {"webhook_url": "ftp://example.com"}, "webhook_url"),
        ("slack", {"webhook_url": "not a url"}, "webhook_url"),
        ("slack", {**VALID["slack"], "timeout_seconds": 0}, "timeout_seconds"),
        ("slack", {**VALID["slack"], "channel": "#ops"}, "channel"),
        ("telegram", {"bot_token": "nope", "chat_id": 1}, "bot_token"),
        ("telegram", {"bot_token": TOKEN, "chat_id": "ops"}, "chat_id"),
        ("telegram", {**VALID["telegram"], "api_base_url": "x"}, "api_base_url"),
        ("teams", {**VALID["teams"], "card": "hero"}, "card"),
        ("pagerduty", {"routing_key": "short"}, "routing_key"),
        ("pagerduty", {**VALID["pagerduty"], "events_url": ""}, "events_url"),
        ("ntfy", {"topic": "has space"}, "topic"),
        ("ntfy", {"topic": "ops", "priorities": {"critical": 6}}, "priorities.critical"),
        ("ntfy", {"topic": "ops", "priorities": {"urgent": 5}}, "priorities.urgent"),
        ("webhook", {"url": "https://x.test", "method": "GET"}, "method"),
        ("webhook", {"url": "https://x.test", "headers": {"Bad Name": "v"}}, "headers.Bad Name"),
        ("webhook", {"url": "https://x.test", "headers": {"X-A": "a\nb"}}, "headers.X-A"),
        ("webhook", {"url": "https://x.test", "headers": {"X-A": "café"}}, "headers.X-A"),
        ("webhook", {"url": "https://x.test", "headers": {"Host": "h"}}, "headers"),
        ("webhook", {"url": "https://x.test", "body_template": {"a": "{{nope}}"}}, "body_template"),
        ("webhook", {"url": "https://x.test", "body_template": "{{title}}"}, "body_template"),
        ("webhook", {"url": "https://x.test", "secret": ""}, "secret"),
    ],
)
def test_a_bad_config_names_the_field(kind: str, config: dict[str, Any], field: str) -> None:
    with pytest.raises(ChannelConfigError) as caught:
        build_channel(kind, config)
    assert caught.value.field == field
    assert caught.value.reason


def test_an_unknown_kind_names_the_kind_field() -> None:
    with pytest.raises(ChannelConfigError) as caught:
        build_channel("carrier-pigeon", {})
    assert caught.value.field == "kind"
    assert "webhook" in caught.value.reason


def test_a_config_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ChannelConfigError) as caught:
        build_channel("slack", ["https://x"])  # type: ignore[arg-type]
    assert caught.value.field == "config"


def test_an_unknown_placeholder_is_named_in_the_reason() -> None:
    with pytest.raises(ChannelConfigError) as caught:
        build_channel("webhook", {"url": "https://x.test", "body_template": ["{{titel}}"]})
    assert "{{titel}}" in caught.value.reason


def test_secret_fields_per_kind() -> None:
    assert {kind: secret_fields(kind) for kind in CHANNEL_KINDS} == {
        "email": {"password"},
        "slack": {"webhook_url"},
        "telegram": {"bot_token"},
        "discord": {"webhook_url"},
        "teams": {"webhook_url"},
        "pagerduty": {"routing_key"},
        "ntfy": {"token"},
        "webhook": {"headers", "secret"},
    }


def test_masked_config_hides_set_secrets_only() -> None:
    config = {**EMAIL, "username": "u", "password": "p"}
    assert masked_config("email", config) == {**EMAIL, "username": "u", "password": MASK}
    assert masked_config("ntfy", {"topic": "ops", "token": None}) == {"topic": "ops", "token": None}


def test_secrets_stay_out_of_the_settings_repr() -> None:
    channel = build_channel("telegram", VALID["telegram"])
    assert TOKEN not in repr(channel.settings)  # type: ignore[attr-defined]


def test_the_schema_flags_secrets_and_uses_config_keys() -> None:
    schema = config_schema("email")
    assert schema["properties"]["password"]["secret"] is True
    assert "from" in schema["required"]


@pytest.mark.parametrize(
    ("kind", "severity", "expected"),
    [
        (NoticeKind.FIRING, "critical", "[CRITICAL] nightly-backup is down"),
        (NoticeKind.REPEAT, "warning", "[WARNING, still open] nightly-backup is down"),
        (NoticeKind.RESOLVED, "critical", "[RESOLVED] nightly-backup is down"),
        (NoticeKind.TEST, "info", "[TEST] nightly-backup is down"),
    ],
)
def test_the_headline_says_the_state(kind: NoticeKind, severity: str, expected: str) -> None:
    assert render.headline(sample_notice(kind=kind, severity=severity)) == expected


def test_the_plain_message_says_what_where_since_why_and_links() -> None:
    text = render.message(sample_notice(), render.PLAIN)
    assert text.splitlines() == [
        "[CRITICAL] nightly-backup is down",
        "Where: check nightly-backup",
        "Since: 2026-11-24 18:00:05 UTC",
        "Severity: critical",
        "Labels: env=prod",
        "",
        "No ping since 17:00; expected by 18:00 (grace 5 min).",
        "",
        "Open in jobpulse: http://jobpulse.test/incidents/42",
    ]


def test_long_summaries_are_cut_with_an_ellipsis() -> None:
    text = render.summary(sample_notice(summary="x" * 10_000))
    assert len(text) == render.SUMMARY_LIMIT
    assert text.endswith("…")


def test_markdown_escapes_user_text_but_not_its_own_markup() -> None:
    text = render.message(sample_notice(title="a_b*c", url=""), render.MARKDOWN)
    assert text.splitlines()[0] == "**\\[CRITICAL\\] a\\_b\\*c**"
    assert "Open in jobpulse" not in text


def test_every_notice_field_is_a_webhook_placeholder() -> None:
    assert set(render.notice_fields(sample_notice())) == PLACEHOLDER_NAMES
