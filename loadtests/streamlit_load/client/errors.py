"""Exceptions raised by the client. All derive from StreamlitClientError."""

from __future__ import annotations


class StreamlitClientError(Exception):
    """Base class of every error this package raises."""


class InteractionTimeout(StreamlitClientError, TimeoutError):
    """No true end of the interaction arrived in time.

    The server sends nothing at all for some requests (a rerun of a fragment id it does not
    know, for one), so a timeout is the only way the client learns they were dropped.
    """


class ServerError(StreamlitClientError):
    """The run ended badly: a compile error, or an exception element in the deltas.

    ``interaction`` holds what was received up to the error (an ``Interaction``), or None.
    """

    def __init__(self, message: str, interaction: object | None = None) -> None:
        super().__init__(message)
        self.interaction = interaction


class SessionClosed(StreamlitClientError):
    """The server closed the WebSocket (``code`` is its close code, None if unknown)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class UnexpectedOutcome(StreamlitClientError):
    """The runs ended well, but not in the sequence the helper promised (e.g. no full rerun).

    ``interaction`` holds the finished ``Interaction``.
    """

    def __init__(self, message: str, interaction: object | None = None) -> None:
        super().__init__(message)
        self.interaction = interaction
