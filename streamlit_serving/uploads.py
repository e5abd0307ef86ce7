"""Uploads: capped per session, and refused where nobody may upload.

Streamlit 1.67 takes a file on ``PUT /_stcore/upload_file/<session id>/<file id>`` from any active
session that sends its own XSRF token, whatever the page shows and whoever the visitor is, and keeps
it in memory (``MemoryUploadedFileManager``, up to ``server.maxUploadSize`` each) until the session
ends, with no cap on how many. An anonymous visitor on the sign-in page could so fill a replica's
memory (docs/operations.md, "Upload floods"). Here:

- **Only to file ids this session was handed**: the frontend asks for upload URLs over the
  WebSocket (a ``file_urls_request`` BackMsg) when a file-accepting widget (``st.file_uploader``,
  ``st.camera_input``, ``st.audio_input``, ``st.chat_input`` accepting files or audio) gets a file.
  The server hands URLs out only to a session whose current page has such a widget (as sent to it
  since its last whole-script run started) and that may see the app (with sign-in on: its user
  passes the gate's ``judge``, which a visitor on the sign-in page does not); it remembers the file
  ids it handed out, and a ``PUT`` to any other id gets **403**, before its body is read.
- **Caps per session**: at most ``SERVE_UPLOAD_MAX_FILES`` files and ``SERVE_UPLOAD_MAX_MB``
  megabytes held at once (unset: 32, or twice ``server.maxUploadSize`` when that is more:
  ``session_cap_mb``). A ``PUT`` that would go over gets **413** and nothing is stored: at once
  from its ``Content-Length`` when it says so, else once the body is read (the exact check, on
  the file's size, where Streamlit stores it). A file the frontend removes (``DELETE``) frees its
  share, as does the session's end.
- One line on stderr (``uploads:``) for each refusal, naming the client.

Streamlit has no hook for this, so ``install`` wraps the Starlette app it creates in ``UploadGuard``
(ASGI middleware, as rerun_limit.py does), and wraps its uploaded-file manager's ``get_upload_urls``
/ ``add_file`` / ``remove_file`` / ``remove_session_files`` and ``AppSession._enqueue_forward_msg``
(which sees every element a session's page is sent).
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .rerun_limit import ASGIApp, Receive, Scope, Send, client_of

FORBIDDEN = 403
TOO_LARGE = 413
UPLOAD_PATH = re.compile(r"/_stcore/upload_file/([^/]+)/([^/]+)/?$")
# Room for the multipart framing around a file in a PUT's Content-Length (boundary, headers).
MULTIPART_MARGIN_BYTES = 16 * 1024
# File ids handed out and not (yet) used that a session may have outstanding: more than any
# page's pick needs, and a bound on what a client asking for URLs in a loop can make us remember.
MAX_OUTSTANDING_IDS = 1000
SESSION_FLAG = "_serving_upload_widget"  # on an AppSession: its page has a file-accepting widget


class Refused(Exception):
    """An upload this layer refuses: the HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def accepts_files(element: Any) -> bool:
    """True for an element proto (``Element``) that makes the frontend upload files."""
    kind = element.WhichOneof("type")
    if kind in ("file_uploader", "camera_input", "audio_input"):
        return True
    if kind == "chat_input":
        chat = element.chat_input
        return bool(chat.accept_file) or bool(chat.accept_audio)
    return False


def note_forward_msg(session: Any, msg: Any) -> None:
    """Keep ``session``'s flag: cleared when a whole-script run starts (a ``new_session`` message
    of no fragment), set when the page is sent a file-accepting element."""
    kind = msg.WhichOneof("type")
    if kind == "new_session":
        if not msg.metadata.run.fragment_ids:
            setattr(session, SESSION_FLAG, False)
    elif (
        kind == "delta"
        and msg.delta.WhichOneof("type") == "new_element"
        and accepts_files(msg.delta.new_element)
    ):
        setattr(session, SESSION_FLAG, True)


@dataclass(frozen=True)
class Caps:
    max_files: int
    max_bytes: int


def check_caps(held: Mapping[str, int], file_id: str, size: int, caps: Caps) -> None:
    """Raise ``Refused(413)`` when a session holding ``held`` (file id -> bytes) may not also hold
    ``size`` bytes as ``file_id`` (a file stored again under its id replaces itself)."""
    others = {fid: n for fid, n in held.items() if fid != file_id}
    if len(others) + 1 > caps.max_files:
        raise Refused(TOO_LARGE, f"this session holds {len(others)} uploaded files, the most it may hold")
    if sum(others.values()) + size > caps.max_bytes:
        mb = caps.max_bytes / 2**20
        raise Refused(TOO_LARGE, f"this upload would take the session's uploads over {mb:g} MB")


class UploadPolicy:
    """Who may upload what: the file ids handed to each session, and the checks on a PUT.

    ``session_of(session_id)``: the live AppSession (None once gone); ``may_see(session)``: True
    when the session's visitor may see the app (always, without sign-in); ``held(session_id)``:
    file id -> bytes of what the session holds now."""

    def __init__(
        self,
        caps: Caps,
        session_of: Callable[[str], Any],
        may_see: Callable[[Any], bool],
        held: Callable[[str], Mapping[str, int]],
    ) -> None:
        self.caps = caps
        self.session_of = session_of
        self.may_see = may_see
        self.held = held
        self.handed: dict[str, OrderedDict[str, None]] = {}
        self.lock = threading.Lock()  # guards ``handed``
        self.store_lock = threading.Lock()  # one check-and-store at a time, so two PUTs never both fit

    def may_upload(self, session_id: str) -> None:
        """Raise ``Refused(403)`` unless the session is live, may see the app and its page has a
        file-accepting widget."""
        session = self.session_of(session_id)
        if session is None:
            raise Refused(FORBIDDEN, "no such session")
        if not self.may_see(session):
            raise Refused(FORBIDDEN, "this session has not signed in")
        if not getattr(session, SESSION_FLAG, False):
            raise Refused(FORBIDDEN, "this session's page has no file uploader")

    def hand_out(self, session_id: str, file_ids: Sequence[str]) -> None:
        """Remember the file ids the server is handing to the session (oldest forgotten first)."""
        with self.lock:
            ids = self.handed.setdefault(session_id, OrderedDict())
            for file_id in file_ids:
                ids[file_id] = None
            while len(ids) > MAX_OUTSTANDING_IDS:
                ids.popitem(last=False)

    def was_handed(self, session_id: str, file_id: str) -> bool:
        with self.lock:
            return file_id in self.handed.get(session_id, ())

    def check_put(self, session_id: str, file_id: str, size: int | None) -> None:
        """Every check on a PUT; ``size``: the bytes to store (a Content-Length, with the
        multipart margin taken off, before the body is read; None when unknown)."""
        self.may_upload(session_id)
        if not self.was_handed(session_id, file_id):
            raise Refused(FORBIDDEN, "no upload URL was handed to this session for this file")
        check_caps(self.held(session_id), file_id, size or 0, self.caps)

    def forget_file(self, session_id: str, file_id: str) -> None:
        with self.lock:
            self.handed.get(session_id, {}).pop(file_id, None)

    def forget_session(self, session_id: str) -> None:
        with self.lock:
            self.handed.pop(session_id, None)


def log_refusal(error: Refused, method: str, path: str, client: str) -> None:
    line = f"uploads: {error.status} for {method} {path}: {error.reason}; client {client}"
    print(line, file=sys.stderr, flush=True)


async def send_refusal(send: Send, error: Refused) -> None:
    body = f"{error.reason}\n".encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class UploadGuard:
    """ASGI middleware: a PUT to the upload route goes through ``policy.check_put`` before its
    body is read (403/413 and the body left unread); everything else passes untouched."""

    def __init__(self, app: ASGIApp, policy: UploadPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = UPLOAD_PATH.search(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "PUT":
            await self.app(scope, receive, send)
            return
        session_id, file_id = match.groups()
        headers = dict(scope.get("headers", []))
        size = None
        try:
            length = int(headers.get(b"content-length", b""))
        except ValueError:
            length = None  # Streamlit answers a bad Content-Length itself (400)
        if length is not None:
            size = max(0, length - MULTIPART_MARGIN_BYTES)
        try:
            self.policy.check_put(session_id, file_id, size)
        except Refused as error:
            log_refusal(error, "PUT", scope["path"], client_of(scope))
            await send_refusal(send, error)
            return
        await self.app(scope, receive, send)


def _streamlit_session_of(runtime: Any) -> Callable[[str], Any]:
    def session_of(session_id: str) -> Any:
        info = runtime._session_mgr.get_active_session_info(session_id)
        return None if info is None else info.session

    return session_of


def _signed_in_may_see(session: Any) -> bool:
    """The gate's verdict on the session's user (what ``st.user`` reads in its runs)."""
    from . import auth
    from .settings import current

    user = dict(getattr(session, "_user_info", None) or {})
    if not user.get("is_logged_in"):
        return False
    return auth.judge(user, current(), time.time()).outcome == "allowed"


def _held_by(manager: Any) -> Callable[[str], Mapping[str, int]]:
    def held(session_id: str) -> Mapping[str, int]:
        with manager._lock:
            files = dict(manager.file_storage.get(session_id, {}))
        return {file_id: len(record.data) for file_id, record in files.items()}

    return held


def guard_manager(manager: Any, policy: UploadPolicy) -> None:
    """Wrap the uploaded-file manager's methods on the instance (see the module docstring)."""
    from starlette.exceptions import HTTPException

    get_upload_urls, add_file = manager.get_upload_urls, manager.add_file
    remove_file, remove_session_files = manager.remove_file, manager.remove_session_files

    def guarded_get_upload_urls(session_id: str, file_names: Sequence[str]) -> list[Any]:
        try:
            policy.may_upload(session_id)
        except Refused as error:
            print(f"uploads: no upload URLs handed out: {error.reason}", file=sys.stderr, flush=True)
            return []
        infos = get_upload_urls(session_id, list(file_names)[:MAX_OUTSTANDING_IDS])
        policy.hand_out(session_id, [info.file_id for info in infos])
        return infos

    def guarded_add_file(session_id: str, file: Any) -> None:
        with policy.store_lock:
            try:
                policy.check_put(session_id, file.file_id, len(file.data))
            except Refused as error:
                log_refusal(error, "PUT", f"(stored) {session_id}/{file.file_id}", "-")
                raise HTTPException(status_code=error.status, detail=error.reason) from None
            add_file(session_id, file)

    def guarded_remove_file(session_id: str, file_id: str) -> None:
        remove_file(session_id, file_id)
        policy.forget_file(session_id, file_id)

    def guarded_remove_session_files(session_id: str) -> None:
        remove_session_files(session_id)
        policy.forget_session(session_id)

    manager.get_upload_urls = guarded_get_upload_urls
    manager.add_file = guarded_add_file
    manager.remove_file = guarded_remove_file
    manager.remove_session_files = guarded_remove_session_files


DEFAULT_SESSION_MB = 32


def session_cap_mb(max_mb: int | None) -> int:
    """The megabytes a session may hold: SERVE_UPLOAD_MAX_MB, or unset the larger of 32 and twice
    the largest file a widget takes (server.maxUploadSize, the app's [limits] upload_mb), so a file
    the proxy let through is never refused for its size alone. Read once Streamlit's options are."""
    if max_mb is not None:
        return max_mb
    from streamlit import config

    return max(DEFAULT_SESSION_MB, 2 * int(config.get_option("server.maxUploadSize")))


def install(max_files: int, max_mb: int | None, sign_in: bool) -> None:
    """Guard uploads in the Starlette app Streamlit creates (before the server starts)."""
    from streamlit.runtime.app_session import AppSession
    from streamlit.web.server.starlette import starlette_server

    create_app = getattr(starlette_server, "create_starlette_app", None)
    enqueue = getattr(AppSession, "_enqueue_forward_msg", None)
    if create_app is None or enqueue is None:
        raise RuntimeError(
            "this Streamlit no longer has starlette_server.create_starlette_app or "
            "AppSession._enqueue_forward_msg: update streamlit_serving/uploads.py "
            "(tests/integration/test_uploads.py shows what it must do)"
        )

    def enqueue_noting(self: Any, msg: Any) -> None:
        note_forward_msg(self, msg)
        enqueue(self, msg)

    AppSession._enqueue_forward_msg = enqueue_noting

    def create_guarded_app(runtime: Any) -> UploadGuard:
        manager = runtime.uploaded_file_mgr
        policy = UploadPolicy(
            Caps(max_files, session_cap_mb(max_mb) * 2**20),
            _streamlit_session_of(runtime),
            _signed_in_may_see if sign_in else (lambda _session: True),
            _held_by(manager),
        )
        guard_manager(manager, policy)
        return UploadGuard(create_app(runtime), policy)

    starlette_server.create_starlette_app = create_guarded_app
