"""Building BackMsgs and reading ForwardMsgs with Streamlit's own protobuf classes.

What a browser sends is read from the Streamlit frontend bundle (``sendRerunBackMsg``): a
``BackMsg.rerun_script`` ClientState with the query string, every active widget's state, the
current page's script hash ("" before the first ``new_session``), the fragment to rerun ("" for
the whole script), the hashes of the cacheable messages it holds, and a ContextInfo.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlencode

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ContextInfo
from streamlit.proto.Delta_pb2 import Delta
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: Element ids are "$$ID-<hash>-<user key>", the user key being "None" when there is none.
ELEMENT_ID_PREFIX = "$$ID-"
#: Elements whose text the client keeps (headers/subheaders/titles, markdown, st.info & co).
TEXT_ELEMENTS = ("heading", "markdown", "alert", "text")


def finished_name(status: int) -> str:
    """'FINISHED_SUCCESSFULLY' etc. for a ``ForwardMsg.script_finished`` value."""
    return ForwardMsg.ScriptFinishedStatus.Name(status)


def user_key_of(element_id: str) -> str | None:
    """The user key in a widget id ("$$ID-abc123-date" -> "date")."""
    if not element_id.startswith(ELEMENT_ID_PREFIX):
        return None
    key = element_id.split("-", maxsplit=2)[-1]
    return None if key == "None" else key


def date_state(widget_id: str, value: date | str | None) -> WidgetState:
    """A st.date_input state as the frontend sends it: ISO dates in ``string_array_value``.

    Streamlit's DateInputSerde parses each entry with "%Y-%m-%d" (or "%Y/%m/%d"). None means
    a cleared field: an empty array. A str is sent as is (for malformed-input tests).
    """
    state = WidgetState(id=widget_id)
    if value is None:
        state.string_array_value.SetInParent()
    else:
        text = value.isoformat() if isinstance(value, date) else value
        state.string_array_value.data.append(text)
    return state


def context_info(page_url: str) -> ContextInfo:
    """The browser context the frontend attaches to every rerun (fixed, deterministic values)."""
    return ContextInfo(
        timezone="UTC",
        timezone_offset=0,
        locale="en-US",
        url=page_url,
        is_embedded=False,
        color_scheme="light",
    )


def rerun_msg(
    *,
    widget_states: Iterable[WidgetState],
    page_script_hash: str,
    page_url: str,
    fragment_id: str | None = None,
    cached_hashes: Iterable[str] = (),
    query_string: str = "",
) -> BackMsg:
    """A ``BackMsg.rerun_script``: a full run, or a fragment run when ``fragment_id`` is set."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query_string
    state.widget_states.widgets.extend(widget_states)
    state.page_script_hash = page_script_hash
    state.page_name = ""
    state.fragment_id = fragment_id or ""
    state.cached_message_hashes.extend(cached_hashes)
    state.context_info.CopyFrom(context_info(page_url))
    return msg


def heartbeat_msg() -> BackMsg:
    """The frontend's keep-alive; the server answers with ``ForwardMsg.heartbeat_ack``."""
    msg = BackMsg()
    msg.app_heartbeat = True
    return msg


def delta_text(delta: Delta) -> str | None:
    """The text of a heading/markdown/alert/text element, None for any other delta."""
    if delta.WhichOneof("type") != "new_element":
        return None
    kind = delta.new_element.WhichOneof("type")
    if kind in TEXT_ELEMENTS:
        return getattr(delta.new_element, kind).body
    return None


def delta_media(delta: Delta) -> list[str]:
    """The URLs a browser fetches for a new element's files: st.image's images, st.audio's and
    st.video's source, st.download_button's file (the server's ``/media/...``, or a URL the app
    gave); [] for any other delta."""
    if delta.WhichOneof("type") != "new_element":
        return []
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind == "imgs":
        return [image.url for image in element.imgs.imgs if image.url]
    if kind in ("audio", "video", "download_button"):
        url = getattr(element, kind).url
        return [url] if url else []
    return []


def delta_exception(delta: Delta) -> str | None:
    """'Type: message' of an exception element (st.exception, uncaught errors), else None."""
    if delta.WhichOneof("type") != "new_element" or delta.new_element.WhichOneof("type") != "exception":
        return None
    exc = delta.new_element.exception
    return ": ".join(part for part in (exc.type, exc.message) if part) or "exception (details hidden)"


def delta_widget(delta: Delta) -> tuple[str, str, str] | None:
    """(id, label, element type) of a widget element, None for anything else."""
    if delta.WhichOneof("type") != "new_element":
        return None
    element = delta.new_element
    kind = element.WhichOneof("type")
    if kind is None:
        return None
    inner = getattr(element, kind)
    widget_id = getattr(inner, "id", "")
    if not isinstance(widget_id, str) or not widget_id.startswith(ELEMENT_ID_PREFIX):
        return None
    return widget_id, getattr(inner, "label", ""), kind


@dataclass(frozen=True)
class UrlBinding:
    """A widget bound to the URL (``bind="query-params"``): its parameter and default, and for a
    date picker the range its values keep to (ISO dates; "" where the proto has none)."""

    param: str
    default: tuple[str, ...]
    low: str = ""
    high: str = ""

    def holds(self, values: Sequence[str]) -> bool:
        """True if the widget could hold ``values``: a date picker only ISO days within its range."""
        if not self.low and not self.high:
            return True
        return all(_iso_day(value) and self.low <= value <= (self.high or value) for value in values)


def _iso_day(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == len("2023-01-01")


def query_binding(delta: Delta) -> tuple[str, UrlBinding] | None:
    """(widget id, binding) of a widget bound to the URL (its proto carries ``query_param_key``),
    None for anything else."""
    widget = delta_widget(delta)
    if widget is None:
        return None
    inner = getattr(delta.new_element, widget[2])
    try:
        bound = inner.HasField("query_param_key")
    except ValueError:  # this widget type has no such field
        return None
    if not bound:
        return None
    default = tuple(getattr(inner, "default", ()))
    if widget[2] != "date_input":
        return widget[0], UrlBinding(inner.query_param_key, default)
    return widget[0], UrlBinding(inner.query_param_key, default, inner.min, inner.max)


def with_query_param(query_string: str, name: str, values: Sequence[str] | None) -> str:
    """``query_string`` with parameter ``name`` set to ``values`` (repeated), or removed (None), as
    the frontend rewrites the page's URL when a user changes a bound widget."""
    pairs = [(key, value) for key, value in parse_qsl(query_string, keep_blank_values=True) if key != name]
    if values is not None:
        pairs += [(name, value) for value in values] if values else [(name, "")]
    return urlencode(pairs)


@dataclass
class _Cached:
    payload: bytes
    run_count: int
    fragment_id: str


@dataclass
class MessageCache:
    """The browser's ForwardMsg cache, so the server sends ``ref_hash`` stubs as it would.

    Mirrors the frontend: cache every message with ``metadata.cacheable``; resolve ``ref_hash``
    messages from it; after each run that ends (not FINISHED_EARLY_FOR_RERUN), drop entries
    unused for more than ``max_age`` runs (a fragment run only ages its own fragment's entries).
    """

    max_age: int = 2
    run_count: int = 0
    entries: dict[str, _Cached] = field(default_factory=dict)

    def hashes(self) -> list[str]:
        return list(self.entries)

    def remember(self, msg: ForwardMsg, payload: bytes) -> None:
        if msg.metadata.cacheable and msg.hash and msg.hash not in self.entries:
            fragment = msg.delta.fragment_id if msg.HasField("delta") else ""
            self.entries[msg.hash] = _Cached(payload, self.run_count, fragment)

    def resolve(self, ref: ForwardMsg) -> ForwardMsg | None:
        """The cached message a ``ref_hash`` stands for, with the stub's metadata; None on a miss."""
        entry = self.entries.get(ref.ref_hash)
        if entry is None:
            return None
        entry.run_count = self.run_count
        msg = ForwardMsg()
        msg.ParseFromString(entry.payload)
        msg.metadata.CopyFrom(ref.metadata)
        return msg

    def end_run(self, fragment_ids: Iterable[str]) -> None:
        self.run_count += 1
        ran = set(fragment_ids)
        for key, entry in list(self.entries.items()):
            if ran and entry.fragment_id not in ran:
                continue
            if self.run_count - entry.run_count > self.max_age:
                del self.entries[key]
