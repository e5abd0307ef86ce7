"""A link survives sign-in: the page opens at the link (path and query) the visitor first asked
for, after the provider's round trip, not at the app's root.

Streamlit 1.67's ``st.login`` sends the browser (``window.location``) to ``/auth/login?provider=…``
and its ``/oauth2callback`` always redirects to the base path (``starlette_auth_routes``:
``_auth_login``, ``_auth_callback``). The browser's request for ``/auth/login`` carries the page it
came from as its ``Referer`` (the proxy's ``Referrer-Policy: strict-origin-when-cross-origin``
sends the whole URL to the same origin). So, around those two handlers (``install()``):

- login: when the Referer has the app's public origin (that of the provider file's
  ``redirect_uri``) and its path and query make a safe target (``safe_target``), it is kept in a
  short-lived cookie (``RETURN_COOKIE``: HttpOnly, SameSite=Lax, ``RETURN_MAX_AGE`` seconds, the
  app's cookie path; Secure over https);
- callback: the redirect to the base path after a sign-in (a request carrying ``state``) goes to
  the kept target instead, checked again; the cookie is cleared whatever happens.

Never an open redirect: a target is a path relative to this origin, starting with the base path
and a single "/", in printable ASCII without a backslash (``//evil.example``, ``/\\evil``,
``https://evil.example/`` and a tab that a browser would drop are refused), and not one of the
sign-in routes themselves. Anything else falls back to Streamlit's own redirect to the base path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

RETURN_COOKIE = "_serve_return_to"
RETURN_MAX_AGE = 600  # seconds: the provider's round trip, a password typed and a second factor
AUTH_ROUTES = ("auth/", "oauth2callback")  # relative to the base path: never a target (a loop)
MAX_TARGET = 2048  # characters; a longer link falls back to the base path


def safe_target(target: str, base: str) -> str | None:
    """``target`` (a path and query) when the app may redirect there, else None. ``base``: the
    app's base path with its trailing "/" (``/`` or ``/dashboard/``)."""
    if not target or len(target) > MAX_TARGET:
        return None
    if any(not 0x20 < ord(char) < 0x7F for char in target) or "\\" in target:
        return None  # spaces, control characters (a browser drops tabs: "/\t/x" is "//x"), non-ASCII
    if not target.startswith("/") or target.startswith("//"):
        return None
    if not (target.startswith(base) or target == base.rstrip("/")):
        return None
    inside = target[len(base) :]
    if inside.startswith(AUTH_ROUTES):
        return None
    return target


def target_from_referer(referer: str | None, origin: str | None, base: str) -> str | None:
    """The page the sign-in started from: the ``Referer``'s path and query, when it has the app's
    public ``origin`` (``scheme://host[:port]``) and is a safe target."""
    if not referer or not origin:
        return None
    try:
        parts = urlsplit(referer)
    except ValueError:
        return None
    if f"{parts.scheme}://{parts.netloc}".lower() != origin.lower():
        return None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return safe_target(target, base)


def _base(base_url: str) -> str:
    from streamlit.url_util import make_url_path

    return make_url_path(base_url, "/")


Handler = Callable[[Any, str], Awaitable[Any]]  # Streamlit's (request, base_url) -> response


def remembering_login(auth_login: Handler) -> Handler:
    """Wrap ``starlette_auth_routes._auth_login`` (see the module docstring)."""

    async def login(request: Any, base_url: str) -> Any:
        from streamlit.auth_util import get_origin_from_redirect_uri
        from streamlit.web.server.starlette import starlette_auth_routes

        response = await auth_login(request, base_url)
        base = _base(base_url)
        origin = get_origin_from_redirect_uri()
        target = target_from_referer(request.headers.get("referer"), origin, base)
        if response.status_code in (302, 303, 307) and target is not None and target != base:
            response.set_cookie(
                RETURN_COOKIE,
                quote(target, safe=""),
                max_age=RETURN_MAX_AGE,
                path=starlette_auth_routes._get_cookie_path(),
                httponly=True,
                samesite="lax",
                secure=bool(origin and origin.startswith("https:")),
            )
        return response

    return login


def returning_callback(auth_callback: Handler) -> Handler:
    """Wrap ``starlette_auth_routes._auth_callback`` (see the module docstring)."""

    async def callback(request: Any, base_url: str) -> Any:
        from streamlit.web.server.starlette import starlette_auth_routes

        response = await auth_callback(request, base_url)
        kept = request.cookies.get(RETURN_COOKIE)
        if kept is None:
            return response
        base = _base(base_url)
        target = safe_target(unquote(kept), base)
        to_base = response.status_code == 302 and response.headers.get("location") == base
        if target is not None and to_base and request.query_params.get("state"):
            response.headers["location"] = target
        response.delete_cookie(RETURN_COOKIE, path=starlette_auth_routes._get_cookie_path())
        return response

    return callback


def install() -> None:
    """Wire both into Streamlit's auth routes (before the server starts)."""
    from streamlit.web.server.starlette import starlette_auth_routes

    missing = [
        name
        for name in ("_auth_login", "_auth_callback", "_get_cookie_path")
        if not callable(getattr(starlette_auth_routes, name, None))
    ]
    if missing:
        raise RuntimeError(
            f"this Streamlit's starlette_auth_routes has no {', '.join(missing)}: find its sign-in and "
            "callback handlers, then update streamlit_serving/sign_in_link.py "
            "(tests/unit/test_sign_in_link.py, tests/integration/test_signin.py)"
        )
    starlette_auth_routes._auth_login = remembering_login(starlette_auth_routes._auth_login)
    starlette_auth_routes._auth_callback = returning_callback(starlette_auth_routes._auth_callback)
