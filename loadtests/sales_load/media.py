"""``MediaUser``: a Locust user of the media page (tests/apps/media_state) doing what a browser does
beside its WebSocket, and checking that its session state stays its own through replicas replaced.

Each task, as a person would, after a think time (``--think-min``..``--think-max``):

  note       types a new note (the text input): a whole run; the page must show ``notes: N last:
             NOTE`` with N the notes this user typed, else a ``state`` event fails (the app's own
             ``st.session_state`` was lost: its page moved to a replica that did not get it)
  image, download  GETs every file the run named (its image, the notes' download), as the browser
             fetches them: through the proxy, to the replica that holds the session (200, a body)
  upload     DELETEs the file it uploaded before (as the frontend does when a file replaces
             another), asks for an upload URL (``file_urls_request``) and PUTs a file there (204)
  uploaded   the rerun the browser sends once the file is up (the uploader's widget state): the
             page must say ``uploaded: <size> bytes``; then its image and the file's download
             (which must be the bytes uploaded)

``state`` events (one per check, failed when the state was lost) are not interactions. A socket the
server closed (a drain) is come back to as Streamlit's frontend does (``StreamlitSession.resume``,
fired as ``reconnect``) and the step is tried again there once. After a loss the user goes on from
the page's count (as a person would: what the page shows).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from typing import Any, ClassVar

from locust import User, task
from streamlit.proto.Common_pb2 import FileUploaderState
from streamlit.proto.WidgetStates_pb2 import WidgetState

from streamlit_load.client import Interaction, StreamlitSession
from streamlit_load.client.errors import SessionClosed, StreamlitClientError, UnexpectedOutcome

from .users import StreamlitUser, think_time

NOTE_WIDGET, FILE_WIDGET = "note", "file"
NOTES = re.compile(r"notes: (\d+) last: (.*)")
IMAGE = re.compile(r"\.(png|jpe?g|webp|gif)(\?|$)")
UPLOAD_BYTES = 4096
STATE, RECONNECT = "state", "reconnect"


def notes_of(interaction: Interaction) -> tuple[int, str] | None:
    """(N, last note) the page showed, None if it showed none."""
    for text in interaction.texts:
        if found := NOTES.fullmatch(text):
            return int(found.group(1)), found.group(2)
    return None


def uploader_state(widget_id: str, file_id: str, upload_url: str, name: str, size: int) -> WidgetState:
    """The uploader's widget state once a file is up, as the frontend sends it."""
    state = WidgetState(id=widget_id)
    files = FileUploaderState()
    info = files.uploaded_file_info.add(name=name, size=size, file_id=file_id)
    info.file_urls.file_id, info.file_urls.upload_url, info.file_urls.delete_url = (
        file_id,
        upload_url,
        upload_url,
    )
    state.file_uploader_state_value.CopyFrom(files)
    return state


class MediaUser(User):
    """One browser on the media page."""

    wait_time = think_time  # --think-min..--think-max s, reading the socket (StreamlitUser.think)
    think = StreamlitUser.think  # a socket closed meanwhile is come back to at once
    numbers: ClassVar[int] = 0

    def __init__(self, environment) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self.timeout = getattr(options, "interaction_timeout", 30.0)
        self.number = MediaUser.numbers
        MediaUser.numbers += 1
        self.session: StreamlitSession | None = None
        self.notes = 0  # notes this user typed that its page holds
        self.held: tuple[str, str] | None = None  # (session id, URL) of the file in its uploader

    def on_start(self) -> None:
        self.load()

    def on_stop(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def load(self) -> bool:
        """A new page (a reload: its state starts afresh, as in Streamlit)."""
        self.session = StreamlitSession(self.host, timeout=self.timeout)
        self.notes = 0
        return self.fire("initial_load", self.session.open) is not None

    def come_back(self) -> Interaction | None:
        """The socket closed: back as the frontend does, rerunning the page (``in_flight``: the
        user's next step is asked again at once), fired as ``reconnect``."""
        session = self.session
        if session is None:
            return None
        resumed = self.fire(RECONNECT, lambda: session.resume(in_flight=True))
        if resumed is None:
            self.session = None
        return resumed

    @task
    def use_the_page(self) -> None:
        if self.session is not None and not self.session.connected:
            self.come_back()  # closed while the user thought: back as the frontend comes back
        if (self.session is None or not self.session.connected) and not self.load():
            self.session = None
            time.sleep(1.0)  # a server that is down gets a trickle of attempts, not a storm
            return
        page = self.step("note", self.type_note)
        if page is None:
            return
        self.check_state(page)
        self.fetch(page)
        upload = self.step("upload", self.upload)
        if upload is None:
            return
        page = self.step("uploaded", lambda: self.show_upload(upload))
        if page is not None:
            self.fetch(page, uploaded=upload[3])

    # -- the steps -----------------------------------------------------------------------------

    def type_note(self) -> Interaction:
        session = self.session
        assert session is not None
        note = f"u{self.number}-{self.notes + 1}"
        self.notes += 1
        return session.change(WidgetState(id=session.widget_id(NOTE_WIDGET), string_value=note), kind="note")

    def upload(self) -> tuple[str, str, str, bytes]:
        """(session id, file id, upload URL, data) of a file PUT to the session's replica; the
        file it replaces in the uploader DELETEd first, as the frontend does (the replica's caps
        count the files a session holds: streamlit_serving/uploads.py)."""
        session = self.session
        assert session is not None
        held = self.held
        if (
            held is not None
            and held[0] == session.session_id
            and (status := session.delete_file(held[1])) != 204
        ):
            raise UnexpectedOutcome(f"DELETE {held[1]}: HTTP {status}")
        self.held = None
        ((file_id, url),) = session.file_urls(["notes.bin"])
        data = os.urandom(UPLOAD_BYTES)
        status = session.put_file(url, data, "notes.bin")
        if status != 204:
            raise UnexpectedOutcome(f"PUT {url}: HTTP {status}")
        self.held = (session.session_id, url)
        return session.session_id, file_id, url, data

    def show_upload(self, upload: tuple[str, str, str, bytes]) -> Interaction:
        """The rerun with the file; a page that moved meanwhile (its file is on the old replica,
        as in a browser) gets the file again first."""
        session = self.session
        assert session is not None
        if upload[0] != session.session_id:
            upload = self.upload()
        _, file_id, url, data = upload
        state = uploader_state(session.widget_id(FILE_WIDGET), file_id, url, "notes.bin", len(data))
        page = session.change(state, kind="uploaded")
        if f"uploaded: {len(data)} bytes" not in page.texts:
            raise UnexpectedOutcome(f"the page did not show the upload: {page.texts[:4]}", page)
        return page

    def fetch(self, page: Interaction, uploaded: bytes | None = None) -> None:
        """GET every file the run named, as the browser does; the upload's download must be it."""
        session = self.session
        if session is None:
            return
        bodies = []
        for url in page.media:
            name = "image" if IMAGE.search(url) else "download"

            def get(url: str = url) -> bytes:
                status, body = session.get_file(url)
                if status != 200 or not body:
                    raise UnexpectedOutcome(f"GET {url}: HTTP {status}, {len(body)} bytes")
                return body

            bodies.append(self.fire(name, get))
        if uploaded is not None and None not in bodies and uploaded not in bodies:
            self.fire("download", lambda: self._raise("no download of the page is the file uploaded"))

    def check_state(self, page: Interaction) -> None:
        """A ``state`` event: the page's notes are this user's, or its state was lost."""
        shown = notes_of(page)
        expected = (self.notes, f"u{self.number}-{self.notes}")

        def compare() -> None:
            if shown != expected:
                raise UnexpectedOutcome(f"state lost: the page shows {shown}, the user typed {expected}")

        if self.fire(STATE, compare) is None and shown is not None:
            self.notes = shown[0]  # a person goes on from what the page shows

    # -- the one place that reports to Locust ------------------------------------------------

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        """``action`` fired as ``name``; on a closed socket, back as the frontend does and once more."""
        try:
            return self.fire(name, action, closed_raises=True)
        except SessionClosed:
            if self.come_back() is None:
                return None
            if name == "note":
                self.notes -= 1  # typed again on the new socket
            return self.fire(name, action)

    def fire(self, name: str, action: Callable[[], Any], *, closed_raises: bool = False) -> Any:
        """Run ``action`` and fire ``request`` named ``name``; its result, or None if it failed."""
        start = time.perf_counter()
        error: Exception | None = None
        result: Any = None
        try:
            result = action()
        except SessionClosed as exc:
            if closed_raises:
                raise
            error = exc
        except (StreamlitClientError, OSError, ValueError, KeyError) as exc:
            error = exc
        if error is not None and self.session is not None and not self.session.connected:
            self.session = None
        interaction = result if isinstance(result, Interaction) else None
        elapsed = (
            interaction.wall_time
            if interaction is not None and error is None
            else time.perf_counter() - start
        )
        self.environment.events.request.fire(
            request_type="WS" if interaction is not None else "CHECK" if name == STATE else "HTTP",
            name=name,
            response_time=elapsed * 1000,
            response_length=interaction.bytes_received if interaction is not None else 0,
            exception=error,
            context={"user": self.number},
        )
        return None if error is not None else (True if result is None else result)

    @staticmethod
    def _raise(message: str) -> None:
        raise UnexpectedOutcome(message)
