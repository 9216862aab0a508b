"""Real receivers on loopback for the notification channel tests: an HTTP server that records
every request and answers as told, and a self-signed certificate for SMTP over TLS."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from typing import Any

from jobpulse.notify.base import Notice, NoticeKind


def sample_notice(**changes: Any) -> Notice:
    values: dict[str, Any] = {
        "id": "ntc_01HZX3",
        "kind": NoticeKind.FIRING,
        "severity": "critical",
        "title": "nightly-backup is down",
        "subject": "check nightly-backup",
        "since": datetime(2026, 11, 24, 18, 0, 5, tzinfo=UTC),
        "summary": "No ping since 17:00; expected by 18:00 (grace 5 min).",
        "url": "http://jobpulse.test/incidents/42",
        "dedup_key": "rule-down:check-7",
        "labels": {"env": "prod"},
    }
    values.update(changes)
    return Notice(**values)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False  # answer only when the test ends (to provoke client timeouts)


class HttpReceiver:
    """A threaded HTTP server on 127.0.0.1 that records requests and plays queued replies
    (then 200 "ok" by default)."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    RecordedRequest(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        self.rfile.read(length),
                    )
                )
                reply = receiver.replies.popleft() if receiver.replies else receiver.default
                if reply.hold:
                    receiver.released.wait(30)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_PUT = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test's teardown) quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def last(self) -> RecordedRequest:
        assert self.requests, "the receiver got no request"
        return self.requests[-1]

    def reply(self, status: int, body: bytes = b"", **options: Any) -> None:
        self.replies.append(Reply(status, body, **options))

    def __enter__(self) -> HttpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@dataclass(frozen=True)
class SelfSignedCert:
    cert_pem: str
    key_pem: str


def self_signed_cert() -> SelfSignedCert:
    """A certificate for 127.0.0.1 and localhost, made on the spot."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return SelfSignedCert(
        cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )
