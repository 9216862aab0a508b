"""Email over SMTP (plain, STARTTLS or implicit TLS, optional login), one message per notice.

The Message-ID is derived from the notice id, so a receiver (or a mail archive) can drop a
second copy if a crash fell between sending and marking the notice delivered.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Annotated, Literal

from pydantic import Field, field_validator

from jobpulse.notify.base import ChannelConfigError, DeliveryError, Notice
from jobpulse.notify.render import HTML, PLAIN, headline, message
from jobpulse.notify.settings import SECRET, ChannelSettings, EmailAddress, OneLine

DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
NOTICE_ID_HEADER = "X-Jobpulse-Notice-Id"
_HTML_STYLE = '"font-family: sans-serif; white-space: pre-wrap"'
_MESSAGE_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]")


class EmailSettings(ChannelSettings):
    host: OneLine
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: OneLine | None = None
    password: Annotated[OneLine | None, SECRET] = None
    from_address: EmailAddress = Field(alias="from")
    to: list[EmailAddress] = Field(min_length=1, max_length=100)
    tls_verify: bool = True
    tls_ca_pem: str | None = Field(default=None, max_length=100_000)

    @field_validator("tls_ca_pem")
    @classmethod
    def _loadable(cls, pem: str | None) -> str | None:
        if pem is not None:
            try:
                ssl.create_default_context(cadata=pem)
            except (ssl.SSLError, ValueError):
                raise ValueError("is not a PEM certificate") from None
        return pem

    def check(self) -> None:
        if (self.username is None) != (self.password is None):
            missing = "password" if self.password is None else "username"
            raise ChannelConfigError(missing, "username and password go together")

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cadata=self.tls_ca_pem)
        if not self.tls_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def email_message(notice: Notice, settings: EmailSettings) -> EmailMessage:
    domain = settings.from_address.rsplit("@", 1)[1]
    mail = EmailMessage()
    mail["Subject"] = headline(notice)
    mail["From"] = settings.from_address
    mail["To"] = ", ".join(settings.to)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = f"<{_MESSAGE_ID_UNSAFE.sub('-', notice.id)}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail[NOTICE_ID_HEADER] = notice.id
    mail.set_content(message(notice, PLAIN))
    html_body = message(notice, HTML)
    mail.add_alternative(f"<div style={_HTML_STYLE}>{html_body}</div>", subtype="html")
    return mail


def _smtp_failure(exc: Exception) -> DeliveryError:
    """Map an smtplib/socket failure: 4xx replies and network trouble are worth a retry."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return DeliveryError(
            f"email: SMTP {exc.smtp_code}: {text}", retryable=400 <= exc.smtp_code < 500
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return DeliveryError(
            f"email: every recipient refused: {codes}",
            retryable=all(400 <= code < 500 for code in codes),
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
        return DeliveryError(f"email: {exc}", retryable=False)
    if isinstance(exc, TimeoutError):
        return DeliveryError("email: the SMTP server timed out", retryable=True)
    return DeliveryError(f"email: {type(exc).__name__}: {exc}", retryable=True)


class EmailChannel:
    kind = "email"
    settings_model = EmailSettings

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(
                s.host, s.effective_port, timeout=s.timeout_seconds, context=s.tls_context()
            )
        return smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout_seconds)

    def send(self, notice: Notice) -> None:
        s = self.settings
        mail = email_message(notice, s)
        try:
            with self._connect() as smtp:
                if s.security == "starttls":
                    smtp.starttls(context=s.tls_context())
                if s.username is not None and s.password is not None:
                    smtp.login(s.username, s.password)
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise _smtp_failure(exc) from None
