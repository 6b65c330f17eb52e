"""Markdown to safe HTML. Python-Markdown passes raw HTML through, so every output goes
through nh3 (ammonia): no script, no event handlers, no javascript: links, no hx-* attributes.
"""

from __future__ import annotations

import re

import markdown as _markdown
import nh3

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
    "code": {"class"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_same_site_images,
    )


def _same_site_images(element: str, attribute: str, value: str) -> str | None:
    """An image from another site would be fetched by every reader's browser (and mail
    client): a tracking pixel. The page's CSP blocks it anyway; here it never gets that far."""
    if (
        element == "img"
        and attribute == "src"
        and not (value.startswith("/") and not value.startswith("//"))
    ):
        return None
    return value


_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)
# What sanitizing leaves of an image whose address was refused: an <img> with nothing to show.
_EMPTY_IMAGE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def render_markdown(text: str, *, top_heading: int = 1) -> str:
    """Render Markdown and sanitize the result; the output is safe to mark safe.

    `top_heading` is the level a `#` heading becomes: text a person writes into a page that
    has its own title and sections (a note, a write-up) starts at 3, so it never makes a
    second <h1> or breaks the page's outline."""
    if not text or not text.strip():
        return ""
    html = _markdown.markdown(
        text, extensions=["fenced_code", "tables", "sane_lists"], output_format="html"
    )
    if top_heading > 1:
        shift = top_heading - 1
        html = _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + shift)}", html)
    return _EMPTY_IMAGE.sub("", sanitize_html(html))
