"""Hostile Markdown and HTML for every Markdown field (unit tests and the browser test).

Each payload, if it worked, would run `alert(1)` (a dialog the browser test listens for), set
`window.__xss`, act through htmx, or make the browser fetch from another site."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

PAYLOADS = [
    # script and event handlers
    "<script>alert(1);window.__xss=1</script>",
    "<scr<script>ipt>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="window.__xss=1">',
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>x</details>",
    '<a href="#" onclick="alert(1)">click</a>',
    # svg and math
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="1" y="1">x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    # links: javascript:, data:, vbscript:, obfuscated
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](jav&#x09;ascript:alert(1))",
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<javascript:alert(1)>",
    "[ref][1]\n\n[1]: javascript:alert(1)",
    '<a href="vbscript:msgbox(1)">x</a>',
    # htmx would act on these
    '<div hx-get="/accounts/logout/" hx-trigger="load">x</div>',
    '<p data-hx-post="/accounts/logout/" data-hx-trigger="load">x</p>',
    '<a hx-on:click="alert(1)" href="/">x</a>',
    '<a hx-on::load="alert(1)">x</a>',
    '<div hx-vals=\'js:{a: alert(1)}\' hx-post="/" hx-trigger="load">x</div>',
    # style
    "<style>*{background:url(https://evil.example/style)}</style>",
    '<p style="background:url(https://evil.example/inline)">x</p>',
    # frames, objects, forms, base, meta
    '<iframe srcdoc="<script>parent.alert(1)</script>"></iframe>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe src="https://evil.example/frame"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="https://evil.example/steal"><button>Go</button></form>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    # requests to other sites
    "![pixel](https://evil.example/pixel.png)",
    '<img src="https://evil.example/pixel2.png">',
    '<video src="https://evil.example/v.mp4" autoplay></video>',
    # mutation XSS shapes
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<template><script>alert(1)</script></template>",
    '<img src="x` `<script>alert(1)</script>"` `>',
    '<a href="https://example.com/" title=\'"><img src=x onerror=alert(1)>\'>ok</a>',
    "```\n</code></pre><img src=x onerror=alert(1)>\n```",
    "`<img src=x onerror=alert(1)>`",
]

DANGEROUS_TAGS = {
    "script",
    "style",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "svg",
    "math",
    "form",
    "input",
    "button",
    "textarea",
    "select",
    "base",
    "meta",
    "link",
    "template",
    "noscript",
    "video",
    "audio",
    "source",
    "details",
    "body",
    "html",
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data"}
SAFE_SCHEMES = {"http", "https", "mailto"}


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, [(k, v or "") for k, v in attrs]))

    handle_startendtag = handle_starttag


def problems(rendered: str) -> list[str]:
    """What in sanitized HTML could run script, drive htmx or fetch from elsewhere."""
    parser = _Collect()
    parser.feed(rendered)
    found = []
    for tag, attrs in parser.found:
        if tag in DANGEROUS_TAGS:
            found.append(f"<{tag}>")
        for name, value in attrs:
            lowered = name.lower()
            if lowered.startswith(("on", "hx-", "data-hx-")) or lowered in {"style", "srcdoc"}:
                found.append(f"{tag}[{name}]")
            if lowered in URL_ATTRIBUTES:
                # As a browser parses a URL: trim C0 controls and spaces at the ends, drop tabs
                # and line breaks anywhere; a scheme is letters, digits, "+", "-" and ".".
                target = re.sub(r"[\t\n\r]", "", html.unescape(value).strip("\x00- ")).lower()
                found_scheme = re.match(r"([a-z][a-z0-9+.-]*):", target)
                scheme = found_scheme.group(1) if found_scheme else ""
                if scheme and scheme not in SAFE_SCHEMES:
                    found.append(f"{tag}[{name}={value!r}]")
                if tag != "a" and scheme in {"http", "https"} or target.startswith("//"):
                    found.append(f"{tag}[{name}] loads {value!r} from elsewhere")
    return found
