"""TLS for every client of the stack (tests, load users, benchmarks): one verifying context.

The stack's proxy serves HTTPS with a certificate from your CA or, after ``make up``, from a local
CA (``deploy/secrets/local-tls/ca.pem``). A client trusts that CA when its file is named by
``ca_file`` or the ``STACK_CA_FILE`` environment variable (which Locust's worker processes
inherit), on top of the system's CAs. Certificates and host names are always verified: there is no
switch to turn that off.
"""

from __future__ import annotations

import functools
import os
import ssl

CA_FILE_VARIABLE = "STACK_CA_FILE"


def client_context(ca_file: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A TLS client context (TLS 1.2+, certificate and host name checked) trusting the system's
    CAs and ``ca_file`` (default: ``$STACK_CA_FILE``, if set). Shared per file: contexts are
    thread-safe, and loading the system's CAs for every session would cost milliseconds."""
    path = ca_file if ca_file is not None else os.environ.get(CA_FILE_VARIABLE, "")
    return _context(os.fspath(path))


@functools.cache
def _context(ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context
