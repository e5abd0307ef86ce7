"""What the session store costs per script run, side by side on one live stack: the app's
replicas with SERVE_SESSION_STORE on and off in alternating windows (ABBA), under the same users.

    set_store(docker, service, STORE_URL)   # a rolling update: every replica with the store on
    window, before, after = store_window(docker, service, load, 60)
    cost = cost_of("on", 60, before, after, load.summary(*window))  # once the users stopped

Per window, from the replicas' own metrics (streamlit_serving/metrics.py and session_store.py,
read inside each container: ``streamlit_load.app_metrics``): script runs, the app processes' CPU
per run (``process_cpu_seconds_total``: the runs, their messages, the media and upload requests
and the store's saves, all of it), the store's saves, their mean and p95 wall time
(``streamlit_serving_session_store_seconds{op="save"}``, the p95 as its bucket's upper bound) and
the mean entry saved (``streamlit_serving_session_store_entry_bytes``); from the users: the runs'
p50/p95 as they waited for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from streamlit_load.app_metrics import SCRAPE, Samples, grown_all, parsed, quantile

from .rolling import Docker, UsersUnderLoad, rolling_update, service_containers

STORE_URL = "redis://session-store:6379/0"  # deploy/swarm/session-store.yaml's
STORE_SECONDS = "streamlit_serving_session_store_seconds"
ENTRY_BYTES = "streamlit_serving_session_store_entry_bytes"


def set_store(docker: Docker, service: str, url: str) -> tuple[float, float]:
    """Every replica of ``service`` replaced by one with SERVE_SESSION_STORE=``url`` ("" = off),
    without the stack's pause between replicas and its 30 s watch of each (nothing is measured
    while it runs, and the service keeps that pacing afterwards)."""
    pacing = ("--update-delay", "0s", "--update-monitor", "5s")
    return rolling_update(docker, service, *pacing, "--env-add", f"SERVE_SESSION_STORE={url}")


def scrape(docker: Docker, containers: list[str]) -> dict[str, Samples]:
    return {name: parsed(docker("exec", name, "python3", "-c", SCRAPE).stdout) for name in containers}


@dataclass(frozen=True)
class StoreCost:
    """One window's figures (see the module docstring); None where nothing was observed."""

    store: str  # "on" or "off"
    seconds: float
    runs: int
    cpu_ms_per_run: float | None
    run_p50_ms: float
    run_p95_ms: float
    failed: int
    saves: int
    save_mean_us: float | None
    save_p95_us: float | None
    entry_kb: float | None

    def record(self) -> dict[str, Any]:
        return asdict(self)


def cost_of(store: str, seconds: float, before: dict[str, Samples], after: dict[str, Samples],
            summary: Any) -> StoreCost:  # fmt: skip
    """The figures of a window from each replica's scrape at its start and end (the same
    replicas) and the users' ``summary`` of it (``rolling.Summary``)."""

    def total(name: str, **labels: str) -> float:
        return sum(grown_all(before[c], after[c], name, **labels) for c in after)

    runs = total("streamlit_script_runs_total")
    cpu = total("process_cpu_seconds_total")
    saves = total(f"{STORE_SECONDS}_count", op="save")
    entries = total(f"{ENTRY_BYTES}_count")
    merged_before = _merged(before)
    merged_after = _merged(after)
    p95 = quantile(merged_before, merged_after, STORE_SECONDS, 0.95, op="save")
    return StoreCost(
        store=store,
        seconds=round(seconds, 1),
        runs=int(runs),
        cpu_ms_per_run=round(1000 * cpu / runs, 2) if runs else None,
        run_p50_ms=round(summary.p50_ms, 1),
        run_p95_ms=round(summary.p95_ms, 1),
        failed=summary.failed,
        saves=int(saves),
        save_mean_us=round(1e6 * total(f"{STORE_SECONDS}_sum", op="save") / saves) if saves else None,
        save_p95_us=None if p95 is None else round(1e6 * p95),
        entry_kb=round(total(f"{ENTRY_BYTES}_sum") / entries / 1024, 1) if entries else None,
    )


def _merged(scrapes: dict[str, Samples]) -> Samples:
    """Several replicas' samples as one (each series summed): their histograms add up."""
    merged: Samples = {}
    for samples in scrapes.values():
        for key, value in samples.items():
            merged[key] = merged.get(key, 0.0) + value
    return merged


def store_window(
    docker: Docker, service: str, load: UsersUnderLoad, seconds: float
) -> tuple[tuple[float, float], dict[str, Samples], dict[str, Samples]]:
    """Let the users run ``seconds`` with the replicas as they are; the window and each replica's
    scrape at its start and end (``cost_of`` reads them once the users' events are in)."""
    containers = service_containers(docker, service)
    before = scrape(docker, containers)
    window = load.window(seconds)
    after = scrape(docker, containers)
    return window, before, after
