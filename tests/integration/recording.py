"""A protocol-client session that keeps every message the server sent (message cache off), for
tests that read what the server said rather than what the page shows."""

from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from streamlit_load.client import StreamlitSession


class Recording(StreamlitSession):
    """A session that keeps every message the server sent."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, timeout=20, message_cache=False)
        self.received: list[ForwardMsg] = []

    def _account(self, interaction, msg, size, hit) -> None:
        self.received.append(msg)
        super()._account(interaction, msg, size, hit)

    def new_session(self) -> ForwardMsg:
        return next(msg for msg in self.received if msg.WhichOneof("type") == "new_session")

    def elements(self, kind: str) -> list:
        """The elements of type ``kind`` (a field of the Element proto) the server sent."""
        deltas = [msg.delta for msg in self.received if msg.WhichOneof("type") == "delta"]
        return [getattr(d.new_element, kind) for d in deltas if d.new_element.WhichOneof("type") == kind]

    def upload_limit(self) -> int:
        (uploader,) = self.elements("file_uploader")
        return uploader.max_upload_size_mb
