"""Email against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS, implicit TLS,
login, and how failures map to DeliveryError."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from jobpulse.notify.base import DeliveryError
from jobpulse.notify.registry import build_channel
from tests.integration.notify_receivers import (
    SelfSignedCert,
    free_port,
    sample_notice,
    self_signed_cert,
)

USER, PASSWORD = "alerts", "correct horse"


class RecordingHandler:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.data_reply = "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return self.data_reply

    def last_message(self) -> Message:
        assert self.envelopes, "the SMTP server got no message"
        content = self.envelopes[-1].original_content or b""
        return message_from_bytes(content)


def check_login(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == LoginPassword(
        USER.encode(), PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture(scope="module")
def cert() -> SelfSignedCert:
    return self_signed_cert()


@pytest.fixture
def server_tls(cert: SelfSignedCert, tmp_path: Path) -> ssl.SSLContext:
    (tmp_path / "cert.pem").write_text(cert.cert_pem)
    (tmp_path / "key.pem").write_text(cert.key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


class SmtpServer:
    def __init__(self, **options: Any) -> None:
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def config(self, **changes: Any) -> dict[str, Any]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "security": "none",
            "from": "jobpulse@example.com",
            "to": ["ops@example.com"],
            "timeout_seconds": 5,
            **changes,
        }


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    server = SmtpServer(**getattr(request, "param", {}))
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture
def starttls_server(server_tls: ssl.SSLContext) -> Iterator[SmtpServer]:
    server = SmtpServer(
        tls_context=server_tls, require_starttls=True, authenticator=check_login, auth_required=True
    )
    server.controller.start()
    yield server
    server.controller.stop()


def test_plain_smtp_delivers_one_message_with_the_notice(smtp_server: SmtpServer) -> None:
    config = smtp_server.config(to=["ops@example.com", "dev@example.com"])
    build_channel("email", config).send(sample_notice())

    [envelope] = smtp_server.handler.envelopes
    assert envelope.mail_from == "jobpulse@example.com"
    assert envelope.rcpt_tos == ["ops@example.com", "dev@example.com"]
    mail = smtp_server.handler.last_message()
    assert mail["Subject"] == "[CRITICAL] nightly-backup is down"
    assert mail["From"] == "jobpulse@example.com"
    assert mail["Message-ID"] == "<ntc_01HZX3@example.com>"
    assert mail["X-Jobpulse-Notice-Id"] == "ntc_01HZX3"
    assert mail["Auto-Submitted"] == "auto-generated"
    plain, html = mail.get_payload()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    text = plain.get_payload(decode=True).decode()
    assert "Where: check nightly-backup" in text
    assert "Since: 2026-11-24 18:00:05 UTC" in text
    assert "No ping since 17:00" in text
    assert "Open in jobpulse: http://jobpulse.test/incidents/42" in text
    markup = html.get_payload(decode=True).decode()
    assert "<b>Where:</b> check nightly-backup" in markup
    assert '<a href="http://jobpulse.test/incidents/42">Open in jobpulse</a>' in markup


def test_starttls_with_login_delivers(starttls_server: SmtpServer, cert: SelfSignedCert) -> None:
    config = starttls_server.config(
        security="starttls", username=USER, password=PASSWORD, tls_ca_pem=cert.cert_pem
    )
    build_channel("email", config).send(sample_notice())

    assert len(starttls_server.handler.envelopes) == 1


def test_a_wrong_password_is_not_retryable(
    starttls_server: SmtpServer, cert: SelfSignedCert
) -> None:
    config = starttls_server.config(
        security="starttls", username=USER, password="wrong", tls_ca_pem=cert.cert_pem
    )
    with pytest.raises(DeliveryError) as caught:
        build_channel("email", config).send(sample_notice())
    assert caught.value.retryable is False
    assert "535" in str(caught.value)
    assert starttls_server.handler.envelopes == []


def test_an_untrusted_certificate_is_refused(starttls_server: SmtpServer) -> None:
    config = starttls_server.config(security="starttls", username=USER, password=PASSWORD)
    with pytest.raises(DeliveryError) as caught:
        build_channel("email", config).send(sample_notice())
    assert caught.value.retryable is False
    assert starttls_server.handler.envelopes == []


def test_tls_verification_can_be_turned_off(starttls_server: SmtpServer) -> None:
    config = starttls_server.config(
        security="starttls", username=USER, password=PASSWORD, tls_verify=False
    )
    build_channel("email", config).send(sample_notice())

    assert len(starttls_server.handler.envelopes) == 1


def test_starttls_against_a_server_without_it_is_not_retryable(smtp_server: SmtpServer) -> None:
    with pytest.raises(DeliveryError) as caught:
        build_channel("email", smtp_server.config(security="starttls")).send(sample_notice())
    assert caught.value.retryable is False


def test_implicit_tls_delivers(server_tls: ssl.SSLContext, cert: SelfSignedCert) -> None:
    server = SmtpServer(ssl_context=server_tls)
    server.controller.start()
    try:
        config = server.config(security="tls", tls_ca_pem=cert.cert_pem)
        build_channel("email", config).send(sample_notice())
    finally:
        server.controller.stop()
    assert len(server.handler.envelopes) == 1


@pytest.mark.parametrize(
    "smtp_server", [{"auth_require_tls": False, "authenticator": check_login}], indirect=True
)
def test_login_over_plain_smtp_when_the_server_allows_it(smtp_server: SmtpServer) -> None:
    config = smtp_server.config(username=USER, password=PASSWORD)
    build_channel("email", config).send(sample_notice())

    assert len(smtp_server.handler.envelopes) == 1


def test_a_server_that_is_down_is_retryable() -> None:
    config = {
        "host": "127.0.0.1",
        "port": free_port(),
        "security": "none",
        "from": "jobpulse@example.com",
        "to": ["ops@example.com"],
    }
    with pytest.raises(DeliveryError) as caught:
        build_channel("email", config).send(sample_notice())
    assert caught.value.retryable is True


@pytest.mark.parametrize(
    ("reply", "retryable"),
    [("451 4.3.0 try again later", True), ("554 5.7.1 rejected as spam", False)],
)
def test_smtp_replies_decide_whether_to_retry(
    smtp_server: SmtpServer, reply: str, retryable: bool
) -> None:
    smtp_server.handler.data_reply = reply
    with pytest.raises(DeliveryError) as caught:
        build_channel("email", smtp_server.config()).send(sample_notice())
    assert caught.value.retryable is retryable
    assert reply.split()[0] in str(caught.value)


def test_a_server_that_never_greets_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        config = {
            "host": "127.0.0.1",
            "port": silent.getsockname()[1],
            "security": "none",
            "from": "jobpulse@example.com",
            "to": ["ops@example.com"],
            "timeout_seconds": 0.2,
        }
        with pytest.raises(DeliveryError) as caught:
            build_channel("email", config).send(sample_notice())
    assert caught.value.retryable is True
    assert "timed out" in str(caught.value)
