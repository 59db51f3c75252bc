"""Message text to HTML: everything escaped, and http/https links made clickable.

No HTML from users is ever kept (SECURITY XS-01, XS-02): the text is split around URLs, every piece
is escaped, and the links are built by Markup.format, which escapes its arguments too.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""
# XS-02 allowlist: a template built here, its arguments escaped by Markup.format.
_LINK = Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{1}</a>')


def _is_web_link(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def render_message(text: str) -> Markup:
    """The message as safe HTML; line breaks are kept by CSS (white-space: pre-wrap)."""
    if "://" not in text:  # no link can be in it: the escaped text, without a regex scan
        return escape(text)
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        if not _is_web_link(url):
            continue
        pieces.append(escape(text[position : match.start()]))
        pieces.append(_LINK.format(url, url))
        position = end
    if not pieces:  # no link: the escaped text alone (what the join below would give)
        return escape(text)
    pieces.append(escape(text[position:]))
    # XS-02 allowlist: every piece above is escaped text or an escaped link.
    return Markup("").join(pieces)


def preview(text: str, length: int = 90) -> str:
    """A one-line start of the message for thread lists (escaped by the template)."""
    line = " ".join(text.split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"
