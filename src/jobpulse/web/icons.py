"""A few line icons (24 by 24, drawn with the current text colour) for the navigation."""

from __future__ import annotations

from markupsafe import Markup

_PATHS = {
    "overview": '<rect x="3" y="3" width="7" height="9" rx="1.5"/><rect x="14" y="3" width="7" '
    'height="5" rx="1.5"/><rect x="14" y="12" width="7" height="9" rx="1.5"/><rect x="3" '
    'y="16" width="7" height="5" rx="1.5"/>',
    "checks": '<path d="M3 12h4l3-8 4 16 3-8h4"/>',
    "tasks": '<path d="M8 6h13M8 12h13M8 18h13"/><circle cx="4" cy="6" r="1"/><circle cx="4" '
    'cy="12" r="1"/><circle cx="4" cy="18" r="1"/>',
    "errors": '<path d="M12 3 2 20h20L12 3z"/><path d="M12 10v4M12 17v.5"/>',
    "queues": '<path d="M4 6h16M4 12h16M4 18h10"/>',
    "workers": '<rect x="5" y="5" width="14" height="14" rx="2"/><path d="M9 1v4M15 1v4M9 19v4'
    'M15 19v4M1 9h4M1 15h4M19 9h4M19 15h4"/>',
    "incidents": '<path d="M5 21V4h11l-1.5 4L16 12H5"/>',
    "rules": '<path d="M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0"/><circle cx="16" cy="6" '
    'r="2"/><circle cx="10" cy="12" r="2"/><circle cx="18" cy="18" r="2"/>',
    "channels": '<path d="M4 5h16v11H8l-4 4z"/>',
    "silences": '<path d="M6 8a6 6 0 0 1 12 0c0 7 3 8 3 8H3s3-1 3-8M10 20a2 2 0 0 0 4 0"/>'
    '<path d="M3 3l18 18"/>',
    "stats": '<path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/>',
    "settings": '<circle cx="12" cy="12" r="3"/><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 '
    '4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1 7 17M17 7l2.1-2.1"/>',
}


def icon(name: str) -> Markup:
    return Markup(
        '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" fill="none" '
        'stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        f'stroke-linejoin="round">{_PATHS.get(name, "")}</svg>'
    )
