"""The submitter's web page: ``GET /`` and its static files, with strict security headers.

The page fingerprints photos and videos on the device and sends only fingerprints, so the
headers make that promise enforceable by the browser itself:

- ``Content-Security-Policy`` allows nothing but this origin (no inline script or style, no
  third-party anything, workers only from here, blobs only as media for video sampling), so
  even a compromised dependency could not send a file elsewhere.
- ``Referrer-Policy: no-referrer``, ``X-Content-Type-Options: nosniff``, a
  ``Permissions-Policy`` that switches off camera, microphone, location and the like,
  ``Cross-Origin-Opener-Policy``/``-Resource-Policy: same-origin`` and no framing.
- No cookies are ever set; nothing here reads the request beyond its path.

Static files are served from ``services/intake/web`` under ``/static/`` from an allow-list
of extensions (no directory listings, no dotfiles, no path escapes). They are revalidated
on every load (``Cache-Control: no-cache`` with an ETag), so a fix reaches phones at once.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.common.http import ApiError

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "worker-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "bluetooth",
        "serial",
        "hid",
        "display-capture",
        "browsing-topics",
        "interest-cohort",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}

router = APIRouter(tags=["page"])


def page_file(relative: str) -> FileResponse:
    """One file under the web root, with the security headers; 404 for anything else."""
    path = (WEB_ROOT / relative).resolve()
    suffix = path.suffix.lower()
    hidden = any(part.startswith(".") for part in Path(relative).parts)
    # Build-time files (type-checker configs, package manifests) are not part of the page.
    tooling = path.name.startswith(("tsconfig", "package"))
    if (
        hidden
        or tooling
        or suffix not in MEDIA_TYPES
        or not path.is_relative_to(WEB_ROOT)
        or not path.is_file()
    ):
        raise ApiError(
            404,
            "not_found",
            f"{relative!r} is not a file of the web page",
            ("path", "no such file"),
        )
    return FileResponse(path, media_type=MEDIA_TYPES[suffix], headers=SECURITY_HEADERS)


@router.get("/", include_in_schema=False)
def web_page() -> FileResponse:
    """The submitter's web page."""
    return page_file("index.html")


@router.get("/static/{relative:path}", include_in_schema=False)
def web_static(relative: str) -> FileResponse:
    """A script, style sheet or translation of the web page."""
    return page_file(relative)
