#!/usr/bin/env python3
"""Benchmark: what sign-in (SERVE_AUTH=oidc) costs, side by side with the open app.

Starts two local servers with the same settings, one open and one with sign-in against the
development OpenID provider (a local Node.js process, deploy/oidc-dev), and:

1. signs a user in --sign-ins times through the provider's form, scripted as a browser does it
   (the app's "Sign in" button, the redirects, the form; streamlit_load.client.signin): the one-time
   cost per user, wall time on this machine (both servers and the provider on 127.0.0.1);
2. measures fragment picks, full reruns and month changes one at a time (sales_load.serial:
   server CPU per interaction from a cgroup of the server's own, in ns), in --rounds rounds that
   alternate between the open server and the signed-in one, so noise hits both alike.

Prints medians per kind for each server and the signed-in/open ratios; records them in --out
(default build/bench_signin).

    .venv/bin/python scripts/bench/bench_signin.py --interactions 30 --rounds 3
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import ExitStack

from sales_load import serial
from streamlit_load import harness
from streamlit_load.client.signin import sign_in
from streamlit_load.dev_provider import ALLOWED_USER, password
from streamlit_load.local_server import ServerStartError
from streamlit_load.targets import local_target

SERVERS = ("open", "signed-in")


def main() -> int:
    parser = harness.parser(__doc__, "bench_signin")
    parser.add_argument(
        "--interactions", type=int, default=30, help="measured interactions per kind and server"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternations between the two servers")
    parser.add_argument("--sessions", type=int, default=3, help="sessions taking turns (default 3)")
    parser.add_argument("--sign-ins", type=int, default=10, help="scripted sign-ins timed (default 10)")
    parser.add_argument("--products", type=int, default=26, help="SALES_PRODUCT_COUNT of both servers")
    args = parser.parse_args()
    # Both servers without the cache warm-up: the signed-in one starts later (after its provider),
    # so its background warm-up ran into its measured interactions and read as ~1.2x the CPU.
    env = {"SALES_PRODUCT_COUNT": str(args.products), "SERVE_WARMUP": "off"}
    settings = {
        "products": args.products, "sessions": args.sessions, "rounds": args.rounds,
        "browser cache": "on", "user": ALLOWED_USER,
    }  # fmt: skip
    try:
        with harness.Report("bench_signin", args.out, settings) as report, ExitStack() as stack:
            servers = {
                "open": stack.enter_context(local_target(env)),
                "signed-in": stack.enter_context(local_target(env, sign_in=True)),
            }
            signed_in = servers["signed-in"].url
            times = []
            for _ in range(args.sign_ins):
                start = time.perf_counter()
                cookies = sign_in(signed_in, ALLOWED_USER, password(ALLOWED_USER))
                times.append((time.perf_counter() - start) * 1000)
            report.line(f"sign-in, scripted ({args.sign_ins}): median {statistics.median(times):.0f} ms, "
                        f"min {min(times):.0f} ms, max {max(times):.0f} ms")  # fmt: skip
            report.figure("sign_in_ms", times)
            samples: dict[str, list[serial.Sample]] = {name: [] for name in SERVERS}
            per_round = -(-args.interactions // args.rounds)
            for _ in range(args.rounds):
                for name in SERVERS:
                    server = servers[name]
                    found, source = serial.run(
                        server.url, server.pid, interactions=per_round, sessions=args.sessions,
                        message_cache=True, cookies=cookies if name == "signed-in" else None,
                    )  # fmt: skip
                    samples[name] += found
            report.line(f"# server cpu {source}")
            print_figures(report, {name: serial.summarise(found) for name, found in samples.items()})
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    return 0


def print_figures(report: harness.Report, figures: dict[str, dict[str, dict[str, float]]]) -> None:
    header = (
        f"{'kind':<13}{'server':<11}{'n':>4}{'wall ms':>9}{'p90 ms':>9}{'cpu ms':>8}{'cpu avg':>9}"
        f"{'bytes':>8}"
    )
    report.line(header)
    report.line("-" * len(header))
    for kind in serial.KINDS:
        for name in SERVERS:
            f = figures[name][kind]
            report.line(
                f"{kind:<13}{name:<11}{f['n']:>4}{f['wall']:>9.1f}{f['p90']:>9.1f}{f['cpu']:>8.1f}"
                f"{f['cpu_avg']:>9.1f}{f['bytes']:>8.0f}"
            )
    report.figure("per_server", figures)
    report.line()
    for kind in serial.KINDS:
        open_, signed = figures["open"][kind], figures["signed-in"][kind]
        report.line(
            f"{kind:<13} signed-in/open: wall {signed['wall'] / open_['wall']:.2f}, "
            f"cpu {signed['cpu_avg'] / open_['cpu_avg']:.2f}, bytes {signed['bytes'] / open_['bytes']:.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
