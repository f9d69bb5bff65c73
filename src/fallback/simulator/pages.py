"""The simulator's HTML pages' frame: plain, offline, with a nav to its other pages."""

from __future__ import annotations

import html

from aiohttp import web

NAV = (("/", "CloudCRM"), ("/status", "Status"), ("/alerts", "Alerts"), ("/mail", "Mail"))
STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f3f4f6;"
    "padding:.5rem}.headers td{overflow-wrap:anywhere}time{white-space:nowrap}"
    "li{margin-bottom:.75rem}nav a{margin-right:1rem}"
    "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;"
    "border-bottom:1px solid #e5e7eb;vertical-align:top}"
)


def page(title: str, body: str, status: int = 200) -> web.Response:
    nav = "".join(f"<a href={href}>{html.escape(name)}</a>" for href, name in NAV)
    text = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>"
        f"<body><nav aria-label='Simulator'>{nav}</nav>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html", status=status)
