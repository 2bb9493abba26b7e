"""Which browser pages may write with the user's cookies: the CSRF defence by origin.

A browser attaches Launch's auth cookies to requests that other pages make, so a
cookie-authenticated write is only as good as the page that made it. Browsers say which
page that is: `Origin` on every POST/PUT/PATCH/DELETE (and `Referer`, unless the page
turned it off), plus `Sec-Fetch-Site` (`same-origin`, `same-site`, `cross-site`,
`none`) in current browsers. None of these can be set by a script.

A cookie write is accepted when

1. `Sec-Fetch-Site: same-origin` (a page served by the API itself, e.g. Swagger UI), or
2. its `Origin` (or, without one, its `Referer`'s origin) is trusted: the API's own
   origin, `CORS_ALLOWED_ORIGINS` (where the settings also put `FRONTEND_URL`'s origin)
   or `CSRF_TRUSTED_ORIGINS` (`https://*.example.com` wildcards included), or
3. it carries a valid Django CSRF token (Django's own check), unless the browser says the
   request is cross-site from an origin that is not trusted.

Anything else is refused, including a write with neither `Origin` nor `Referer`:
programs send `Authorization: Bearer`, which needs none of this. `Sec-Fetch-Site:
same-site` earns nothing by itself: a sibling origin (another port on localhost, another
subdomain) is exactly the page this check exists to stop.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import is_same_domain

if TYPE_CHECKING:  # the settings import this module: keep DRF out of that import
    from django.http import HttpRequest
    from rest_framework.request import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HINT = "trusted origins: FRONTEND_URL, CORS_ALLOWED_ORIGINS, CSRF_TRUSTED_ORIGINS"


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL or origin, lower-cased, without a default
    port; None for anything else (`null`, a bare host, another scheme, garbage)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


class TrustedOrigins:
    """Exact origins plus `scheme://*.domain` wildcards (the CSRF_TRUSTED_ORIGINS form)."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.wildcards: set[tuple[str, str]] = set()
        for entry in entries:
            if "://*." in entry:
                scheme, _, rest = entry.partition("://")
                # is_same_domain's pattern form: ".example.com" matches subdomains.
                self.wildcards.add((scheme.lower(), rest[1:].rstrip("/").lower()))
                continue
            origin = normalize_origin(entry)
            if origin:
                self.exact.add(origin)

    def __contains__(self, origin: object) -> bool:
        if not isinstance(origin, str):
            return False
        if origin in self.exact:
            return True
        scheme, _, netloc = origin.partition("://")
        return any(
            scheme == wild_scheme and is_same_domain(netloc, pattern)
            for wild_scheme, pattern in self.wildcards
        )


def trusted_origins(request: HttpRequest | Request) -> TrustedOrigins:
    """The API's own origin and the configured lists, read per request (they are short,
    and tests change them)."""
    own = f"{request.scheme}://{request.get_host()}"
    return TrustedOrigins(
        [
            own,
            *settings.CORS_ALLOWED_ORIGINS,
            *settings.CSRF_TRUSTED_ORIGINS,
        ]
    )


def stated_origin(request: HttpRequest | Request) -> tuple[str | None, str | None]:
    """(the page's origin or None, the header it came from or None if neither was sent).

    `Origin: null` (a sandboxed or privacy-hidden page) is a stated, untrusted origin: it
    does not fall back to `Referer`."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return normalize_origin(origin), "Origin"
    referer = request.headers.get("Referer")
    if referer:
        return normalize_origin(referer), "Referer"
    return None, None


def _no_view(request: Any) -> Any:  # pragma: no cover - the check never calls a view
    raise AssertionError


class _DjangoCsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: Any, reason: str) -> Any:
        return reason


def _django_token_passes(request: HttpRequest | Request) -> bool:
    # Given DRF's Request (as DRF's SessionAuthentication does), Django's check reads a
    # form's `csrfmiddlewaretoken` from the body DRF already parsed.
    check = _DjangoCsrfCheck(_no_view)
    django_request: Any = request
    check.process_request(django_request)
    return check.process_view(django_request, _no_view, (), {}) is None


def cookie_write_refusal(request: HttpRequest | Request) -> str | None:
    """Why a cookie-authenticated request must be refused, or None to accept it."""
    if request.method in SAFE_METHODS or _exempt(request):
        return None
    fetch_site = request.headers.get("Sec-Fetch-Site", "").lower()
    origin, source = stated_origin(request)
    if (origin is not None and origin in trusted_origins(request)) or (
        fetch_site != "cross-site" and _django_token_passes(request)
    ):
        return None
    if source is None:
        return (
            "CSRF failed: a request authenticated by cookie must come from a browser page "
            "that sends Origin or Referer (programs use Authorization: Bearer)."
        )
    return _untrusted(request, origin, source)


def _exempt(request: HttpRequest | Request) -> bool:
    # Django's test client sets the flag unless asked to enforce CSRF, and Django's own
    # middleware honours it; no browser can. `same-origin` is the API's own pages.
    return bool(getattr(request, "_dont_enforce_csrf_checks", False)) or (
        request.headers.get("Sec-Fetch-Site", "").lower() == "same-origin"
    )


def _untrusted(request: HttpRequest | Request, origin: str | None, source: str) -> str:
    shown = origin or request.headers.get(source, "")
    return f"CSRF failed: {source} {shown!r} is not a trusted origin ({_HINT})."


def stated_origin_refusal(request: HttpRequest | Request) -> str | None:
    """For requests that set cookies without using them (login): refuse only a browser
    page that states an untrusted origin, so a page elsewhere cannot log the browser into
    an account of its choosing. Programs, which state none, are unaffected."""
    if request.method in SAFE_METHODS or _exempt(request):
        return None
    origin, source = stated_origin(request)
    if source is None or (origin is not None and origin in trusted_origins(request)):
        return None
    return _untrusted(request, origin, source)
