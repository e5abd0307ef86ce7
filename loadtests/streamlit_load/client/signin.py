"""Sign in to the app through its OpenID provider as a browser does, without a browser.

1. Open a session on the app and press its "Sign in" button: ``st.login`` answers with a
   redirect to ``/auth/login?provider=…`` (a short-lived token the app signed).
2. Follow the redirects as a browser would, with a cookie jar per host: the app stores the
   OAuth state in its session cookie and sends us to the provider's authorization endpoint;
   the provider shows its sign-in form (the development provider's, ``deploy/oidc-dev``), we
   post the e-mail and password, it redirects back to the app's ``/oauth2callback``, and the app
   sets its signed identity cookie (``_streamlit_user``).
3. Return the app's cookies: a ``StreamlitSession(url, cookies=…)`` is then that signed-in user.

Host names ending in ``.localhost`` connect to 127.0.0.1, as browsers resolve them (RFC 6761):
the development provider's issuer is such a name, the same for the app in its container.
Only http(s) URLs are followed, at most ``MAX_REDIRECTS`` of them.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from dataclasses import dataclass, field
from html import unescape
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

from .errors import StreamlitClientError
from .session import StreamlitSession
from .tls import client_context

SIGN_IN_BUTTON = "Sign in"
SIGN_OUT_BUTTON = "Sign out"
MAX_REDIRECTS = 12
USER_COOKIE = "_streamlit_user"
_FORM_ACTION = re.compile(r'<form[^>]*\baction="([^"]+)"', re.IGNORECASE)


class SignInError(StreamlitClientError):
    """The sign-in did not end with the app's identity cookie; the message says where it stopped."""


@dataclass
class Response:
    url: str
    status: int
    location: str | None
    body: str


class _MappedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address``, with SNI and the certificate check for ``host`` (the system's CAs and
    the stack's, ``streamlit_load.client.tls``, unless ``context`` says otherwise)."""

    def __init__(self, host: str, address: str, port: int, timeout: float, context: ssl.SSLContext | None):
        self._context = context or client_context()
        super().__init__(host, port, timeout=timeout, context=self._context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class Browser:
    """Just enough of a browser for a sign-in: host-only cookie jars, redirects, forms."""

    timeout: float = 30.0
    context: ssl.SSLContext | None = None
    jars: dict[str, dict[str, str]] = field(default_factory=dict)  # "host:port" -> cookies
    visited: list[str] = field(default_factory=list)

    def jar(self, url: str) -> dict[str, str]:
        return self.jars.setdefault(urlsplit(url).netloc, {})

    def request(
        self, method: str, url: str, form: dict[str, str] | None = None, *, referer: str | None = None
    ) -> Response:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SignInError(f"refusing to follow {url!r}")
        host = parts.hostname
        address = "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection = self._connect(parts.scheme, host, address, port)
        headers = {"Host": parts.netloc, "User-Agent": "streamlit-client-signin"}
        if referer is not None:
            headers["Referer"] = referer
        jar = self.jar(url)
        if jar:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in jar.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        path = parts.path or "/"
        try:
            connection.request(method, f"{path}?{parts.query}" if parts.query else path, body, headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        except OSError as error:
            raise SignInError(f"{method} {url}: {error}") from error
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self._store(jar, header)
        self.visited.append(f"{method} {url} -> {response.status}")
        location = response.headers.get("Location")
        return Response(url, response.status, urljoin(url, location) if location else None, text)

    def follow(
        self, method: str, url: str, form: dict[str, str] | None = None, *, referer: str | None = None
    ) -> Response:
        """The request (with ``referer``, if given), then every redirect (as GETs, without one)
        until a page that is not one."""
        response = self.request(method, url, form, referer=referer)
        for _ in range(MAX_REDIRECTS):
            if response.status not in (301, 302, 303, 307, 308) or not response.location:
                return response
            response = self.request("GET", response.location)
        raise SignInError(f"more than {MAX_REDIRECTS} redirects: {self.visited}")

    def _connect(self, scheme: str, host: str, address: str, port: int) -> http.client.HTTPConnection:
        if scheme == "http":
            return http.client.HTTPConnection(address, port, timeout=self.timeout)
        return _MappedHTTPSConnection(host, address, port, self.timeout, self.context)

    @staticmethod
    def _store(jar: dict[str, str], header: str) -> None:
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            expired = morsel["max-age"] == "0" or "1970" in morsel["expires"]
            if expired or not morsel.value:
                jar.pop(name, None)
            else:
                jar[name] = morsel.value


def login_redirect(session: StreamlitSession) -> str:
    """Press the page's "Sign in" button; the URL ``st.login`` sends the browser to."""
    pressed = session.click(SIGN_IN_BUTTON)
    if len(pressed.redirects) != 1:
        raise SignInError(f"'{SIGN_IN_BUTTON}' sent {pressed.redirects!r}, not one redirect")
    return urljoin(session.page_url, pressed.redirects[0])


@dataclass
class SignedIn:
    """A sign-in's end: the app's cookies, and the app's page the browser was sent to at last."""

    cookies: dict[str, str]
    landed: str


def sign_in(
    base_url: str,
    email: str,
    password: str,
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> dict[str, str]:
    """Sign ``email`` in to the app at ``base_url`` through its provider's form; returns the
    app's cookies (identity cookie included) for ``StreamlitSession(base_url, cookies=…)``.
    Raises SignInError where the flow stopped (a refused password included)."""
    return sign_in_from(base_url, email, password, timeout=timeout, context=context).cookies


def sign_in_from(
    page: str,
    email: str,
    password: str,
    *,
    referer: str | None = "",
    cookies: dict[str, str] | None = None,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> SignedIn:
    """``sign_in`` from the app's page at URL ``page`` (a link: ``http://host/?date=2023-03-09``):
    "Sign in" pressed there, the browser goes to ``/auth/login`` with the page's address as its
    ``Referer``, as a browser does (``referer``: another one; None: none). ``cookies``: more
    cookies the browser holds for the app. Returns the cookies and the page it lands on."""
    with StreamlitSession(page, timeout=timeout) as session:
        start = login_redirect(session)
        app_cookies = session.cookies()
        address = session.page_url + (f"?{session.query_string}" if session.query_string else "")
    browser = Browser(timeout=timeout, context=context)
    browser.jar(start).update({**(cookies or {}), **app_cookies})
    form_page = browser.follow("GET", start, referer=address if referer == "" else referer)
    action = _FORM_ACTION.search(form_page.body)
    if form_page.status != 200 or action is None:
        raise SignInError(f"no sign-in form at the provider: {browser.visited}")
    post_to = urljoin(form_page.url, unescape(action.group(1)))
    done = browser.follow("POST", post_to, {"email": email, "password": password})
    cookies = browser.jar(start)
    if USER_COOKIE not in cookies:
        raise SignInError(
            f"{email}: the app set no {USER_COOKIE} cookie: {browser.visited}; last page {done.body[:300]!r}"
        )
    return SignedIn(dict(cookies), done.url)
