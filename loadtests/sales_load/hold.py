"""Hold many sessions open in one process, as Locust's greenlets do: does the client scale?

``python -m sales_load.hold URL --sessions 1100 --pages 20`` patches the process with gevent (as
Locust does), raises the open-file limit, opens ``--sessions`` WebSockets at once (each a session
on the server, no script run yet), has every one of them exchange a heartbeat, runs the page and
a day pick on the ``--pages`` sessions opened last (the highest file descriptors), and prints one
JSON line: sessions held, the highest socket fd, heartbeats and picks done, and any errors.
``select.select`` would refuse every descriptor from 1024 on; the client must not care.
"""

from __future__ import annotations

import argparse
import json
import sys


def hold(url: str, sessions: int, pages: int, timeout: float) -> dict:
    from gevent.pool import Pool

    from streamlit_load.client import StreamlitClientError
    from streamlit_load.harness import raise_fd_limit

    from .page import DashboardSession
    from .picks import expect_fragment

    limit = raise_fd_limit(sessions + 200)
    held = [DashboardSession(url, timeout=timeout) for _ in range(sessions)]
    errors: list[str] = []

    def attempt(step, session: DashboardSession) -> bool:
        try:
            step(session)
            return True
        except (StreamlitClientError, OSError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            return False

    pool = Pool(200)  # at most this many handshakes at once: a browser crowd, not a SYN flood
    connected = sum(pool.map(lambda s: attempt(DashboardSession.connect, s), held))
    beats = sum(pool.map(lambda s: attempt(DashboardSession.heartbeat, s), held))
    tail = held[-pages:] if pages else []

    def page_and_pick(session: DashboardSession) -> None:
        session.rerun(kind="initial")
        expect_fragment(session.pick_date("2023-01-15"))

    picks = sum(pool.map(lambda s: attempt(page_and_pick, s), tail))
    fds = [s._ws.sock.fileno() for s in held if s.connected and s._ws is not None and s._ws.sock]
    for session in held:
        session.close()
    return {
        "sessions": sessions,
        "connected": connected,
        "heartbeats": beats,
        "picks": picks,
        "max_fd": max(fds, default=-1),
        "fd_limit": limit,
        "errors": errors[:20],
        "error_count": len(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--sessions", type=int, default=1100)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    from gevent import monkey

    monkey.patch_all()
    result = hold(args.url, args.sessions, args.pages, args.timeout)
    print(json.dumps(result))
    return 0 if result["error_count"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
