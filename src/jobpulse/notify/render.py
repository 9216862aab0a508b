"""One rendering of a notice shared by every channel: what, where, since when, why, link.

Channels differ only in markup (plain text, Markdown, Slack mrkdwn, HTML) and in
where they put the pieces (an email subject, an embed title, a card's fact set); the words
themselves are decided here, once.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from jobpulse.notify.base import Notice, NoticeKind

TITLE_LIMIT = 200
SUMMARY_LIMIT = 1500
LINK_TEXT = "Open in jobpulse"


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def headline(notice: Notice) -> str:
    """One line: the state and the title, e.g. `[CRITICAL] nightly-backup is down`."""
    title = truncate(notice.title, TITLE_LIMIT)
    if notice.kind is NoticeKind.RESOLVED:
        return f"[RESOLVED] {title}"
    if notice.kind is NoticeKind.TEST:
        return f"[TEST] {title}"
    state = notice.severity.upper()
    if notice.kind is NoticeKind.REPEAT:
        state += ", still open"
    return f"[{state}] {title}"


def since_text(notice: Notice) -> str:
    return notice.since.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def facts(notice: Notice) -> list[tuple[str, str]]:
    """Label/value pairs every channel shows: where, since when, severity, labels."""
    rows = [
        ("Where", notice.subject),
        ("Since", since_text(notice)),
        ("Severity", notice.severity),
    ]
    if notice.labels:
        rows.append(("Labels", ", ".join(f"{k}={v}" for k, v in sorted(notice.labels.items()))))
    return rows


def summary(notice: Notice) -> str:
    return truncate(notice.summary, SUMMARY_LIMIT)


# Red for critical, orange for warning, blue for info, green once resolved.
_SEVERITY_COLORS = {"critical": 0xD92D20, "warning": 0xF79009, "info": 0x2E90FA}
RESOLVED_COLOR = 0x12B76A


def color(notice: Notice) -> int:
    """The notice's colour as 0xRRGGBB (Discord embeds, Teams cards)."""
    if notice.kind is NoticeKind.RESOLVED:
        return RESOLVED_COLOR
    return _SEVERITY_COLORS.get(notice.severity, _SEVERITY_COLORS["info"])


def notice_fields(notice: Notice) -> dict[str, Any]:
    """The notice as JSON-ready values (generic webhook bodies and templates)."""
    return {
        "id": notice.id,
        "kind": notice.kind.value,
        "severity": notice.severity,
        "title": notice.title,
        "subject": notice.subject,
        "since": notice.since.astimezone(UTC).isoformat(),
        "summary": notice.summary,
        "url": notice.url,
        "dedup_key": notice.dedup_key,
        "labels": dict(notice.labels),
        "headline": headline(notice),
        "text": message(notice, PLAIN),
    }


@dataclass(frozen=True)
class Markup:
    """How one target formats text. `bold` and `link` take text already escaped."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]  # (escaped text, raw url)


def _no_escape(text: str) -> str:
    return text


_MARKDOWN_SPECIALS = re.compile(r"([\\`*_~|>\[\]()#])")


def _escape_markdown(text: str) -> str:
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _escape_slack(text: str) -> str:
    # Slack treats &, < and > as markup (`<!channel>` would ping everyone).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


PLAIN = Markup(escape=_no_escape, bold=_no_escape, link=lambda text, url: f"{text}: {url}")
MARKDOWN = Markup(
    escape=_escape_markdown,
    bold=lambda text: f"**{text}**",
    link=lambda text, url: f"[{text}]({url.replace(')', '%29')})",
)
SLACK_MRKDWN = Markup(
    escape=_escape_slack,
    bold=lambda text: f"*{text}*",
    link=lambda text, url: f"<{_escape_slack(url)}|{text}>",
)
# The tags both Telegram's HTML mode and email clients understand.
HTML = Markup(
    escape=lambda text: html.escape(text, quote=False),
    bold=lambda text: f"<b>{text}</b>",
    link=lambda text, url: f'<a href="{html.escape(url)}">{text}</a>',
)


def message(notice: Notice, markup: Markup, *, with_headline: bool = True) -> str:
    """The whole notice as text in `markup`: headline, facts, why, link."""
    lines = [markup.bold(markup.escape(headline(notice)))] if with_headline else []
    lines += [
        f"{markup.bold(markup.escape(label + ':'))} {markup.escape(value)}"
        for label, value in facts(notice)
    ]
    lines += ["", markup.escape(summary(notice))]
    if notice.url:
        lines += ["", markup.link(markup.escape(LINK_TEXT), notice.url)]
    return "\n".join(lines)
