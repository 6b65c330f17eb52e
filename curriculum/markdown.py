"""Markdown to safe HTML. Python-Markdown passes raw HTML through, so every output goes
through nh3 (ammonia): no script, no event handlers, no javascript: links, no hx-* attributes.
"""

from __future__ import annotations

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


def render_markdown(text: str) -> str:
    """Render Markdown and sanitize the result; the output is safe to mark safe."""
    if not text or not text.strip():
        return ""
    html = _markdown.markdown(
        text, extensions=["fenced_code", "tables", "sane_lists"], output_format="html"
    )
    return sanitize_html(html)
