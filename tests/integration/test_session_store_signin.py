"""The session store with sign-in (SERVE_AUTH=oidc): a page's own st.session_state comes back only
to the same signed-in user in the same browser. Real parts: the development OpenID provider
(deploy/oidc-dev, a local Node.js process: scripts/setup/ensure-node.sh), redis-server started by
the store image's entrypoint with its password (tests/integration/test_session_store.py), two
replicas with sign-in sharing the store, its password file and the cookie secret, and the protocol
client signed in through the provider's form (streamlit_load.client.signin).

The entry's key binds the proxy's HttpOnly st_route cookie (the browser), the session id and the
signed-in user (session_store.identity_of): a page that moves (its old session id, as the frontend
sends it) finds its state only with all three. Another user signed in in the same browser (the
first signed out), the same user in another browser, or nobody signed in, each with the old
session id, get nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streamlit_load.client.signin import USER_COOKIE, sign_in
from streamlit_load.dev_provider import ALLOWED_USER, OTHER_USER, password, running_provider
from streamlit_load.local_server import Server, free_port

from .test_session_store import OTHER_ROUTE, ROUTE, build_state, first_run_moved, replica, running_store

SIGN_IN_TEXT = "This app is for signed-in people only."


@pytest.fixture(scope="module")
def replicas(tmp_path_factory) -> Iterator[tuple[Server, Server]]:
    """Two replicas with sign-in on; both test users are let in (OTHER_USER is off the development
    stack's list, on this one: two users who may both use the app). The first replica's address
    stands for the stack's public URL: both have its redirect URI, as every replica behind the
    proxy has the proxy's, and the pages send its origin (Streamlit refuses a WebSocket whose
    Origin is not the redirect URI's)."""
    ports = free_port(), free_port()
    public = f"http://127.0.0.1:{ports[0]}/oauth2callback"
    with running_provider([public]) as provider, running_store(tmp_path_factory.mktemp("redis")) as store:
        oidc = provider.settings_file(public, tmp_path_factory.mktemp("oidc"))

        def started(port: int):
            return replica(
                store.url, store.password_file, port=port, SERVE_AUTH="oidc",
                SERVE_ALLOWED_EMAILS=f"{ALLOWED_USER},{OTHER_USER}", SERVE_OIDC_FILE=str(oidc),
            )  # fmt: skip

        with started(ports[0]) as first, started(ports[1]) as second:
            yield first, second


def signed_in(server: Server, email: str, route: str) -> dict[str, str]:
    cookies = sign_in(server.base_url, email, password(email))
    assert USER_COOKIE in cookies
    return {**cookies, "st_route": route}


def test_the_state_comes_back_to_the_same_user_in_the_same_browser_only(replicas):
    first, second = replicas
    ada = signed_in(first, ALLOWED_USER, ROUTE)
    page = build_state(first, ada)  # 4 runs, 2 messages, as signed-in Ada
    page.close()
    others = {
        "another user, the same browser": signed_in(first, OTHER_USER, ROUTE),
        "the same user, another browser": {**ada, "st_route": OTHER_ROUTE},
    }
    for who, cookies in others.items():
        ran, _ = first_run_moved(second, page, cookies)  # the old session id, these cookies
        assert ran.has_text("seen at start: runs=0 messages=0"), (who, ran.texts)
        assert ran.has_text("runs: 1"), who
        assert ran.has_text("messages: []"), who
    ran, _ = first_run_moved(second, page, {"st_route": ROUTE})  # signed out, the same browser
    assert ran.has_text(SIGN_IN_TEXT), ran.texts  # the gate: nothing of the app ran
    assert not any("messages" in text for text in ran.texts)
    assert "restored" not in second.log(), "none of them got the state"

    ran, moved_id = first_run_moved(second, page, ada)  # Ada's page, back in her browser
    assert ran.has_text("seen at start: runs=4 messages=2"), ran.texts
    assert ran.has_text("messages: ['message 1', 'message 2']")
    assert f"session {moved_id} restored 2 key(s)" in second.log()
