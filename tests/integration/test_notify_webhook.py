"""The generic webhook against a real HTTP receiver: body, template, headers, HMAC."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator

import pytest

from jobpulse.notify.base import NoticeKind
from jobpulse.notify.registry import build_channel
from tests.integration.notify_receivers import HttpReceiver, sample_notice


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as running:
        yield running


def test_without_a_template_it_posts_every_notice_field(receiver: HttpReceiver) -> None:
    build_channel("webhook", {"url": f"{receiver.url}/hook"}).send(sample_notice())

    request = receiver.last
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-jobpulse-notice-id"] == "ntc_01HZX3"
    assert "x-jobpulse-signature" not in request.headers
    body = request.json()
    assert body == body | {
        "id": "ntc_01HZX3",
        "kind": "firing",
        "severity": "critical",
        "title": "nightly-backup is down",
        "subject": "check nightly-backup",
        "since": "2026-11-24T18:00:05+00:00",
        "url": "http://jobpulse.test/incidents/42",
        "dedup_key": "rule-down:check-7",
        "labels": {"env": "prod"},
        "headline": "[CRITICAL] nightly-backup is down",
    }
    assert "Open in jobpulse: http://jobpulse.test/incidents/42" in body["text"]


def test_the_signature_is_hmac_sha256_of_the_exact_body(receiver: HttpReceiver) -> None:
    config = {"url": receiver.url, "secret": "s3cret"}
    build_channel("webhook", config).send(sample_notice())

    request = receiver.last
    expected = hmac.new(b"s3cret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-jobpulse-signature"] == f"sha256={expected}"


def test_a_custom_signature_header_name_is_used(receiver: HttpReceiver) -> None:
    config = {"url": receiver.url, "secret": "k", "signature_header": "X-Hub-Signature-256"}
    build_channel("webhook", config).send(sample_notice())

    expected = hmac.new(b"k", receiver.last.body, hashlib.sha256).hexdigest()
    assert receiver.last.headers["x-hub-signature-256"] == f"sha256={expected}"


def test_the_body_template_fills_placeholders(receiver: HttpReceiver) -> None:
    template = {
        "event": "{{kind}}",
        "message": "{{title}} on {{subject}} since {{since}}",
        "meta": {"labels": "{{labels}}", "env": "{{labels.env}}", "missing": "{{labels.zone}}"},
        "links": ["{{url}}"],
        "{{severity}}_count": 1,
        "fixed": True,
    }
    build_channel("webhook", {"url": receiver.url, "body_template": template}).send(
        sample_notice(kind=NoticeKind.RESOLVED, title='say "hi"')
    )

    assert receiver.last.json() == {
        "event": "resolved",
        "message": 'say "hi" on check nightly-backup since 2026-11-24T18:00:05+00:00',
        "meta": {"labels": {"env": "prod"}, "env": "prod", "missing": ""},
        "links": ["http://jobpulse.test/incidents/42"],
        "critical_count": 1,
        "fixed": True,
    }


def test_method_and_custom_headers_are_sent(receiver: HttpReceiver) -> None:
    config = {"url": receiver.url, "method": "PUT", "headers": {"Authorization": "Bearer t0k"}}
    build_channel("webhook", config).send(sample_notice())

    assert receiver.last.method == "PUT"
    assert receiver.last.headers["authorization"] == "Bearer t0k"
