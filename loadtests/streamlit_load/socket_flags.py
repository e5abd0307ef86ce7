"""TCP_NODELAY of the connections a server process accepted, read from its sockets themselves.

``ss -ti`` does not show TCP_NODELAY (it is a socket option, not TCP info), so this borrows each
socket with ``pidfd_getfd(2)`` and asks it. Standard library only: it also runs as a script with
the python3 of the app image, in a helper container that joins the app container's PID namespace
(``server_probe.container_nodelay``):

    python3 socket_flags.py PID PORT     prints a JSON list of booleans, one per connection
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import socket
import sys

SYS_PIDFD_GETFD = 438  # the same number on x86_64 and arm64 (Linux >= 5.6)


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _borrow_fd(pidfd: int, fd: int) -> int:
    """A duplicate, in this process, of file descriptor ``fd`` of the process behind ``pidfd``."""
    duplicate = _libc().syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
    if duplicate < 0:
        error = ctypes.get_errno()
        raise OSError(error, f"pidfd_getfd({fd}): {os.strerror(error)} (no ptrace rights)")
    return duplicate


def accepted_nodelay(pid: int, port: int) -> list[bool]:
    """TCP_NODELAY of every connection process ``pid`` accepted on ``port``, one bool each.

    Works across network namespaces. Needs ptrace rights over ``pid``: a process of the same
    user started by this one (a local test server), or root / CAP_SYS_PTRACE for another user's
    (a container's app runs as UID 10001: use ``server_probe.container_nodelay``). Without them
    it raises PermissionError rather than report no connections.
    """
    flags = []
    pidfd = os.pidfd_open(pid)
    try:
        entries = list(os.scandir(f"/proc/{pid}/fd"))  # PermissionError: not ours to look at
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):  # an fd closed meanwhile
                if not os.readlink(entry.path).startswith("socket:"):
                    continue
            try:
                borrowed = _borrow_fd(pidfd, int(entry.name))
            except OSError as exc:
                if exc.errno in (1, 13):  # EPERM, EACCES: no ptrace rights
                    raise PermissionError(exc.errno, exc.strerror) from None
                continue  # EBADF: closed meanwhile
            with socket.socket(fileno=borrowed) as sock:
                tcp = sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM
                if not tcp or sock.getsockname()[1] != port:
                    continue
                try:
                    sock.getpeername()  # raises for the listening socket: not a connection
                except OSError:
                    continue
                flags.append(bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
    finally:
        os.close(pidfd)
    return flags


if __name__ == "__main__":
    print(json.dumps(accepted_nodelay(int(sys.argv[1]), int(sys.argv[2]))))
