#!/usr/bin/env python3
"""Benchmark: what a replica does at the capacity ladder's breaking step (issue 35's cliff).

Runs `make capacity` for one configuration on a short ladder (default on-2r-26p, 1250 then 1750
readers) and, at the last step, profiles every app replica with py-spy (PyPI; it attaches to the
replica's Python process from the host, so run it as root) in two windows:

  ramp  while the last step's new users arrive and load their pages (25 a second);
  hold  once they are all in and only read and pick.

Each window: py-spy `record --idle` (every thread, what it runs or waits in) and `--gil` (only the
thread holding the GIL), and the replica's own figures before and after it from its metrics port
(streamlit_serving/pauses.py: GC pauses by generation, the event loop's lag; script runs and
process CPU). Prints per window and replica: runs/s, CPU cores, GC pause seconds per second by
generation, the lag's median and p95 (from its histogram's buckets), and the functions with the most
samples under the GIL (own and inclusive). The raw profiles (folded stacks: speedscope and
flamegraph.pl read them) and the capacity run's report are kept in --out.

    sudo .venv/bin/python scripts/bench/profile_cliff.py --ladder 1250,1750
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sales_load.capacity import parse_ladder
from sales_load.capacity_cli import NAMES
from streamlit_load import harness
from streamlit_load.app_metrics import SCRAPE, grown, grown_all, parsed, quantile
from streamlit_load.local_server import free_port

REPO = harness.REPO
EX_USAGE = 64
TOP = 12


def parse_args(argv: list[str] | None):
    parser = harness.parser(__doc__, "profile-cliff")
    parser.add_argument("--config", default="on-2r-26p", choices=sorted(NAMES), help="configuration")
    parser.add_argument(
        "--ladder", type=parse_ladder, default=[1250, 1750], help="users per step (default 1250,1750)"
    )
    parser.add_argument("--hold", type=float, default=60.0, help="seconds each step is held (default 60)")
    parser.add_argument(
        "--seconds", type=int, default=20, help="seconds each profile window lasts (default 20)"
    )
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second (default 100)")
    args = parser.parse_args(argv)
    if len(args.ladder) < 2:
        parser.error("--ladder needs two steps or more: the last is profiled")
    if args.seconds < 5 or args.seconds > args.hold:
        parser.error(f"--seconds must be 5 or more and at most --hold ({args.hold:g}), got {args.seconds}")
    return args


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def replicas(project: str) -> dict[str, int]:
    """The stack's app containers -> the host pid of each one's serving process."""
    found = {}
    for container in docker(
        "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
        "--filter", "label=com.docker.compose.service=app",
    ).split():  # fmt: skip
        for line in docker("top", container, "-eo", "pid,args").splitlines()[1:]:
            pid, _, command = line.strip().partition(" ")
            if "streamlit_serving" in command and " run " in command:
                found[container] = int(pid)
    return found


def scrape(container: str) -> dict[tuple[str, tuple], float]:
    return parsed(docker("exec", container, "python", "-c", SCRAPE))


def window_figures(before: dict, after: dict, seconds: float) -> dict[str, float | None]:
    pause = "streamlit_serving_gc_pause_seconds"
    lag = "streamlit_serving_event_loop_lag_seconds"
    runs = grown_all(before, after, "streamlit_script_runs_total")
    figures: dict[str, float | None] = {
        "runs_per_s": runs / seconds,
        "cores": grown(before, after, "process_cpu_seconds_total") / seconds,
        "sessions": after.get(("streamlit_serving_sessions", ()), 0.0),
        "lag_p50_ms": None,
        "lag_p95_ms": None,
    }
    for generation in ("0", "1", "2"):
        figures[f"gc{generation}_per_s"] = (
            grown(before, after, f"{pause}_count", generation=generation) / seconds
        )
        figures[f"gc{generation}_s_per_s"] = (
            grown(before, after, f"{pause}_sum", generation=generation) / seconds
        )
    for q, key in ((0.5, "lag_p50_ms"), (0.95, "lag_p95_ms")):
        bound = quantile(before, after, lag, q)
        figures[key] = None if bound is None else bound * 1000
    return figures


def folded_top(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    """(samples, own, inclusive) from py-spy's raw (folded) output: function -> samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame.split(" (")[0] for frame in stack.split(";")]  # outermost first
        total += int(count)
        if frames:
            own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    return total, own, inclusive


def profile(spy: str, pids: dict[str, int], window: str, seconds: int, rate: int, out: Path) -> dict:
    """py-spy on every replica at once (all threads, then the GIL holder), and the metrics around it."""
    before = {container: scrape(container) for container in pids}
    began = time.monotonic()
    spies = []
    for index, pid in enumerate(pids.values(), 1):
        for mode, flag in (("threads", "--idle"), ("gil", "--gil")):
            target = out / f"{window}-r{index}-{mode}.txt"
            command = [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate)]
            command += ["--nonblocking", flag, "--format", "raw", "-o", str(target)]
            spies.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            )
    for spied in spies:
        _, err = spied.communicate(timeout=seconds + 60)
        if spied.returncode:
            raise RuntimeError(f"py-spy failed ({spied.returncode}): {err.strip()[-500:]}")
    elapsed = time.monotonic() - began
    figures = {}
    for index, container in enumerate(pids, 1):
        figures[f"r{index}"] = window_figures(before[container], scrape(container), elapsed)
    return figures


def ladder_entries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if os.geteuid() != 0:
        print(
            "profile-cliff: py-spy attaches to the replicas' processes: run it as root (sudo)",
            file=sys.stderr,
        )
        return EX_USAGE
    if spy is None:
        print("profile-cliff: py-spy is not installed: make venv (requirements/dev.txt)", file=sys.stderr)
        return EX_USAGE
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    project = f"profile{free_port()}"
    ladder = ",".join(map(str, args.ladder))
    settings = {
        "config": args.config,
        "ladder": ladder,
        "hold s": args.hold,
        "window s": args.seconds,
        "rate": args.rate,
    }
    with harness.Report("profile-cliff", out, settings) as report:
        command = [
            sys.executable, "-m", "sales_load.capacity_cli", "--configs", args.config, "--ladder", ladder,
            "--hold", str(args.hold), "--stack-project", project, "--out", str(out / "capacity"),
        ]  # fmt: skip
        log = (out / "capacity.log").open("w")
        capacity = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        ladder_log = out / "capacity" / f"{args.config}_ladder.jsonl"
        windows: dict[str, dict] = {}
        try:
            # The last step's ramp starts when the step before it has been judged.
            while len(ladder_entries(ladder_log)) < len(args.ladder) - 1:
                if capacity.poll() is not None:
                    raise RuntimeError(
                        f"the capacity run ended before the last step (see {out}/capacity.log)"
                    )
                time.sleep(1)
            if not ladder_entries(ladder_log)[-1]["ok"]:
                raise RuntimeError(
                    f"the step before the last broke already: {ladder_entries(ladder_log)[-1]}"
                )
            pids = replicas(project)
            report.line(f"# replicas: {', '.join(f'{c[:12]} pid {p}' for c, p in pids.items())}")
            windows["ramp"] = profile(spy, pids, "ramp", args.seconds, args.rate, out)
            ramp_seconds = (args.ladder[-1] - args.ladder[-2]) / 25.0 + 5  # spawn, then settle
            time.sleep(max(0.0, ramp_seconds - args.seconds))
            windows["hold"] = profile(spy, pids, "hold", args.seconds, args.rate, out)
        finally:  # the capacity run climbs on, judges, and removes its stack
            code = capacity.wait(timeout=args.hold * 8 + 600)
            log.close()
        report.figure("windows", windows)
        entries = ladder_entries(ladder_log)
        report.line(f"# capacity run: exit {code}; steps " + "; ".join(
            f"{e['users']} users p95 {e['p95_ms']} ms {'held' if e['ok'] else 'BROKE'}" for e in entries
        ))  # fmt: skip
        report.line()
        keys = ["runs_per_s", "cores", "sessions", "lag_p50_ms", "lag_p95_ms"]
        keys += [f"gc{g}_per_s" for g in "012"] + [f"gc{g}_s_per_s" for g in "012"]
        report.line("| window | replica | " + " | ".join(keys) + " |")
        report.line("|---|---|" + "---|" * len(keys))
        for window, by_replica in windows.items():
            for replica, figures in by_replica.items():
                cells = [("-" if figures[k] is None else f"{figures[k]:.3g}") for k in keys]
                report.line(f"| {window} | {replica} | " + " | ".join(cells) + " |")
        for window in windows:
            for mode in ("gil", "threads"):
                merged_own: Counter[str] = Counter()
                merged_inclusive: Counter[str] = Counter()
                samples = 0
                for path in sorted(out.glob(f"{window}-r*-{mode}.txt")):
                    total, own, inclusive = folded_top(path)
                    samples += total
                    merged_own.update(own)
                    merged_inclusive.update(inclusive)
                report.line()
                report.line(f"## {window}, {mode} ({samples} samples, both replicas)")
                report.line("| own % | function | | inclusive % | function |")
                report.line("|---|---|---|---|---|")
                for (fo, co), (fi, ci) in zip(
                    merged_own.most_common(TOP), merged_inclusive.most_common(TOP), strict=False
                ):
                    report.line(f"| {100 * co / samples:.1f} | {fo} | | {100 * ci / samples:.1f} | {fi} |")
                report.figure(f"{window}_{mode}_own", merged_own.most_common(TOP))
                report.figure(f"{window}_{mode}_inclusive", merged_inclusive.most_common(TOP))
    return 0


if __name__ == "__main__":
    sys.exit(main())
