"""streamlit_serving/uploads.py without a server: which elements make a page an uploading one,
the caps' arithmetic, the file ids a session was handed, and that the ASGI guard answers a
refused PUT without reading its body. tests/integration/test_uploads.py runs it on a real server."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from streamlit_serving.uploads import (
    MAX_OUTSTANDING_IDS,
    SESSION_FLAG,
    Caps,
    Refused,
    UploadGuard,
    UploadPolicy,
    accepts_files,
    check_caps,
    note_forward_msg,
    session_cap_mb,
)

MB = 2**20


def element(kind: str, **fields: object) -> Element:
    made = Element()
    getattr(made, kind).SetInParent()
    for name, value in fields.items():
        setattr(getattr(made, kind), name, value)
    return made


@pytest.mark.parametrize(
    ("made", "uploads"),
    [
        (element("file_uploader"), True),
        (element("camera_input"), True),
        (element("audio_input"), True),
        (element("chat_input", accept_file=1), True),  # SINGLE
        (element("chat_input", accept_audio=True), True),
        (element("chat_input"), False),  # text only
        (element("text_input"), False),
        (element("button"), False),
    ],
)
def test_the_elements_that_make_the_frontend_upload(made, uploads):
    assert accepts_files(made) is uploads


def forward(kind: str, fragment_ids: tuple[str, ...] = (), made: Element | None = None) -> ForwardMsg:
    msg = ForwardMsg()
    if kind == "new_session":
        msg.new_session.SetInParent()
        msg.metadata.run.fragment_ids.extend(fragment_ids)
    else:
        msg.delta.new_element.CopyFrom(made)
    return msg


def test_a_whole_run_forgets_the_uploader_and_a_fragment_run_keeps_it():
    session = SimpleNamespace()
    note_forward_msg(session, forward("new_session"))
    assert getattr(session, SESSION_FLAG) is False
    note_forward_msg(session, forward("delta", made=element("text_input")))
    assert getattr(session, SESSION_FLAG) is False
    note_forward_msg(session, forward("delta", made=element("file_uploader")))
    assert getattr(session, SESSION_FLAG) is True
    note_forward_msg(session, forward("new_session", ("a fragment",)))  # the uploader stays on the page
    assert getattr(session, SESSION_FLAG) is True
    note_forward_msg(session, forward("new_session"))  # the page is drawn anew
    assert getattr(session, SESSION_FLAG) is False


def test_caps_count_files_and_bytes_and_a_file_replaces_itself():
    caps = Caps(max_files=2, max_bytes=MB)
    check_caps({}, "a", MB, caps)  # exactly the cap fits
    with pytest.raises(Refused, match="over 1 MB") as error:
        check_caps({}, "a", MB + 1, caps)
    assert error.value.status == 413
    check_caps({"a": MB // 2}, "b", MB // 2, caps)
    with pytest.raises(Refused, match="holds 2 uploaded files"):
        check_caps({"a": 1, "b": 1}, "c", 1, caps)
    check_caps({"a": MB, "b": 1}, "a", MB - 1, caps)  # "a" again: its old bytes are not counted


CAPS = Caps(3, MB)


def policy(held=None, *, may_see=True, uploader=True, caps=CAPS):
    sessions = {"s1": SimpleNamespace(**{SESSION_FLAG: uploader})}
    return UploadPolicy(caps, sessions.get, lambda _session: may_see, lambda sid: (held or {}).get(sid, {}))


def test_a_put_needs_a_live_session_that_may_see_the_app_has_an_uploader_and_was_handed_the_id():
    reasons = {
        "gone": (policy(), "s0", "no such session"),
        "anonymous": (policy(may_see=False), "s1", "has not signed in"),
        "no uploader": (policy(uploader=False), "s1", "has no file uploader"),
        "not handed": (policy(), "s1", "no upload URL was handed"),
    }
    for made, session_id, reason in reasons.values():
        with pytest.raises(Refused, match=reason) as error:
            made.check_put(session_id, "f1", 10)
        assert error.value.status == 403
    allowed = policy()
    allowed.hand_out("s1", ["f1"])
    allowed.check_put("s1", "f1", 10)
    allowed.forget_file("s1", "f1")  # the frontend deleted it: the id is used up
    with pytest.raises(Refused, match="no upload URL was handed"):
        allowed.check_put("s1", "f1", 10)


def test_the_ids_a_session_holds_unused_are_bounded_oldest_first():
    made = policy()
    made.hand_out("s1", [f"f{i}" for i in range(MAX_OUTSTANDING_IDS + 5)])
    assert not made.was_handed("s1", "f0")
    assert made.was_handed("s1", "f5")
    assert made.was_handed("s1", f"f{MAX_OUTSTANDING_IDS + 4}")
    made.forget_session("s1")
    assert not made.was_handed("s1", "f5")


def test_a_caps_refusal_comes_before_the_body_when_content_length_says_so():
    made = policy(held={"s1": {"old": MB // 2}})
    made.hand_out("s1", ["f1"])
    with pytest.raises(Refused, match="over 1 MB"):
        made.check_put("s1", "f1", MB // 2 + 1)


def run_guard(guard: UploadGuard, method: str, path: str, headers=()) -> tuple[list[dict], list[str]]:
    sent: list[dict] = []
    reached: list[str] = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    guard.app = app

    async def receive():
        raise AssertionError("the guard read the body of a refused upload")

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": list(headers),
        "client": ("10.0.0.9", 1),
    }
    asyncio.run(guard(scope, receive, send))
    return sent, reached


def test_the_guard_answers_a_refused_put_itself_without_reading_its_body():
    guard = UploadGuard(None, policy())
    sent, reached = run_guard(guard, "PUT", "/_stcore/upload_file/s1/f1", [(b"content-length", b"100")])
    assert not reached
    assert sent[0]["status"] == 403
    assert b"no upload URL was handed" in sent[1]["body"]


def test_the_guard_lets_a_handed_out_put_and_everything_else_through():
    made = policy()
    made.hand_out("s1", ["f1"])
    guard = UploadGuard(None, made)
    for method, path in [
        ("PUT", "/_stcore/upload_file/s1/f1"),
        ("DELETE", "/_stcore/upload_file/s1/f9"),  # Streamlit removes what is there, if anything
        ("PUT", "/_stcore/health"),
        ("GET", "/"),
    ]:
        sent, reached = run_guard(guard, method, path, [(b"content-length", b"100")])
        assert (sent, reached) == ([], [path])


def test_the_guard_sees_the_upload_route_under_a_base_path():
    guard = UploadGuard(None, policy())
    sent, reached = run_guard(guard, "PUT", "/dash/_stcore/upload_file/s1/f1")
    assert (sent[0]["status"], reached) == (403, [])


@pytest.mark.parametrize(
    ("setting", "largest_file", "cap"),
    [(None, 16, 32), (None, 100, 200), (5, 100, 5), (64, 16, 64)],
)
def test_a_session_holds_two_of_the_largest_files_unless_the_setting_says_otherwise(
    setting, largest_file, cap
):
    """SERVE_UPLOAD_MAX_MB unset: 32 MB, or twice server.maxUploadSize (the app's [limits]
    upload_mb) when that is more, so the proxy's and Streamlit's file cap never meets a smaller
    session cap; set, it is taken as written."""
    from streamlit import config

    before = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", largest_file)
    try:
        assert session_cap_mb(setting) == cap
    finally:
        config.set_option("server.maxUploadSize", before)
