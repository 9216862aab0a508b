"""Generic webhook: a JSON body (the notice, or a template of it), signed with HMAC-SHA256.

A body template is any JSON object or array. In its strings, `{{field}}` is replaced by the
notice's field (`id`, `kind`, `severity`, `title`, `subject`, `since`, `summary`, `url`,
`dedup_key`, `headline`, `text`, `labels`, `labels.NAME`). A string that is exactly one
placeholder takes the field's JSON value (so `"{{labels}}"` becomes an object).

With a secret, the header `X-Jobpulse-Signature: sha256=<hex>` carries
HMAC-SHA256(secret, body) over the exact bytes sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator

from jobpulse.notify.base import Notice
from jobpulse.notify.http import send_request
from jobpulse.notify.render import notice_fields
from jobpulse.notify.settings import SECRET, ChannelSettings, HttpUrl

SIGNATURE_HEADER = "X-Jobpulse-Signature"
NOTICE_ID_HEADER = "X-Jobpulse-Notice-Id"
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[^{}\s]+)?)\s*\}\}")
PLACEHOLDER_NAMES = frozenset(
    (
        "id",
        "kind",
        "severity",
        "title",
        "subject",
        "since",
        "summary",
        "url",
        "dedup_key",
        "headline",
        "text",
        "labels",
    )
)
_HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$"


def _header_value(value: str) -> str:
    if not all(" " <= char <= "~" or char == "\t" for char in value):
        raise ValueError("must be printable ASCII on one line")
    return value


HeaderValue = Annotated[str, Field(max_length=4000), AfterValidator(_header_value)]
_RESERVED_HEADERS = {"content-length", "host", "content-type", "transfer-encoding"}


def signature(secret: str, body: bytes) -> str:
    """The signature header value for `body`: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _placeholders(template: Any) -> list[str]:
    if isinstance(template, str):
        return PLACEHOLDER.findall(template)
    if isinstance(template, dict):
        return [
            name
            for key, value in template.items()
            for name in _placeholders(key) + _placeholders(value)
        ]
    if isinstance(template, list):
        return [name for item in template for name in _placeholders(item)]
    return []


def _placeholder_known(name: str) -> bool:
    return name in PLACEHOLDER_NAMES or name.startswith("labels.")


class WebhookSettings(ChannelSettings):
    url: HttpUrl
    method: Literal["POST", "PUT", "PATCH"] = "POST"
    headers: Annotated[dict[Annotated[str, Field(pattern=_HEADER_NAME)], HeaderValue], SECRET] = (
        Field(default_factory=dict, max_length=50)
    )
    body_template: dict[str, Any] | list[Any] | None = None
    secret: Annotated[str | None, Field(min_length=1, max_length=1000), SECRET] = None
    signature_header: Annotated[str, Field(pattern=_HEADER_NAME)] = SIGNATURE_HEADER

    @field_validator("headers")
    @classmethod
    def _not_reserved(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"{name} is set by jobpulse and cannot be overridden")
        return headers

    @field_validator("body_template", mode="before")
    @classmethod
    def _known_placeholders(cls, template: Any) -> Any:
        if template is not None and not isinstance(template, dict | list):
            raise ValueError("must be a JSON object or array")
        for name in _placeholders(template):
            if not _placeholder_known(name):
                raise ValueError(f"unknown placeholder {{{{{name}}}}}")
        return template


def _value_of(name: str, fields: dict[str, Any]) -> Any:
    if name.startswith("labels."):
        return fields["labels"].get(name.removeprefix("labels."), "")
    return fields[name]


def _substitute(text: str, fields: dict[str, Any]) -> str:
    def text_of(match: re.Match[str]) -> str:
        value = _value_of(match.group(1), fields)
        return value if isinstance(value, str) else json.dumps(value)

    return PLACEHOLDER.sub(text_of, text)


def _fill(template: Any, fields: dict[str, Any]) -> Any:
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        return _value_of(whole.group(1), fields) if whole else _substitute(template, fields)
    if isinstance(template, dict):
        return {_substitute(key, fields): _fill(value, fields) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(item, fields) for item in template]
    return template


def webhook_body(notice: Notice, template: dict[str, Any] | list[Any] | None) -> bytes:
    fields = notice_fields(notice)
    document = fields if template is None else _fill(template, fields)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel:
    kind = "webhook"
    settings_model = WebhookSettings

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings

    def send(self, notice: Notice) -> None:
        body = webhook_body(notice, self.settings.body_template)
        headers = {
            **self.settings.headers,
            "Content-Type": "application/json",
            NOTICE_ID_HEADER: notice.id,
        }
        if self.settings.secret:
            headers[self.settings.signature_header] = signature(self.settings.secret, body)
        send_request(
            self.kind,
            self.settings.method,
            self.settings.url,
            content=body,
            headers=headers,
            timeout=self.settings.timeout_seconds,
        )
