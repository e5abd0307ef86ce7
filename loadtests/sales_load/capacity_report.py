"""Outputs of ``make capacity``: the per-step tables, the capacity table, the goals table, the
capacity chart (``capacity.png``, matplotlib, for docs/benchmarks.md) and ``report.html`` (plotly,
self-contained). The step and capacity tables carry the host CPU per reader, the readers the host's
cores would hold at 100 % and the held share of that (``capacity_cpu.py``); capacity.json has them
as ``cpu_limit``.

The chart: concurrent users against p95 latency (solid) and the app's server CPU (dashed, right
axis), fragments on (green) and off (red), one panel per catalogue size, a marker per replica count.
"""

from __future__ import annotations

import html
from pathlib import Path

from streamlit_load.harness import Report

from . import capacity_cpu
from .capacity import MEMORY_HEADROOM, P95_BUDGET_MS, ConfigResult

COLORS = {True: "#2e7d32", False: "#c62828"}
MARKERS = {1: "o", 2: "s", 3: "^"}


def fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def cpu_columns(cpu: capacity_cpu.CpuPerReader | None) -> str:
    """The step table's ``ms/reader``, ``app/proxy/Locust/rest`` and ``at 100 %`` columns."""
    if cpu is None:
        return f"{'n/a':>9} {'n/a':>23} {'n/a':>8}"
    return f"{cpu.host_ms:>9.2f} {cpu.split():>23} {cpu.readers_at_full:>8,.0f}"


def print_result(report: Report, result: ConfigResult) -> None:
    report.line(f"## {result.config.label}: {result.capacity:,} users held ({result.seconds:.0f} s)")
    report.line(
        f"{'users':>6} {'inter.':>7} {'fail':>5} {'p50 ms':>7} {'p95 ms':>7} {'app cores':>9} "
        f"{'proxy':>6} {'locust':>7} {'host':>5} {'ms/reader':>9} {'app/proxy/Locust/rest':>23} "
        f"{'at 100 %':>8} {'sessions':>8} {'app RSS MB':>10}  verdict"
    )
    for s in result.steps:
        report.line(
            f"{s.users:>6} {s.interactions:>7} {s.failures:>5} {fmt(s.p50_ms):>7} {fmt(s.p95_ms):>7} "
            f"{fmt(s.app_cores, 2):>9} {fmt(s.proxy_cores, 2):>6} {fmt(s.generator_cores, 2):>7} "
            f"{fmt(s.host_cores, 2):>5} {cpu_columns(capacity_cpu.per_reader(s, result.host_cpus))} "
            f"{s.sessions if s.sessions is not None else 'n/a':>8} "
            f"{fmt(s.app_rss_mb):>10}  {'held' if s.ok else 'OVER BUDGET'}"
        )
    report.line(f"saturated first: {result.saturated}")
    report.line(capacity_cpu.verdict(result))
    report.line(
        f"client addresses the proxy saw on the WebSocket: {result.distinct_clients:,} "
        "(load-balancer mode: one per simulated user)"
    )
    if result.memory:
        limit = result.memory_limit_mb()
        report.line(
            f"memory: {result.memory.base_mb:.0f} MB + {result.memory.kb_per_session:.0f} kB per live "
            f"session ({result.memory.points} steps); a replica's limit at this capacity with "
            f"{MEMORY_HEADROOM:g}x headroom: {fmt(limit)} MB"
        )
    for error in result.errors:
        report.line(f"error: {error}")
    report.line()


def summary_table(results: list[ConfigResult]) -> list[str]:
    lines = [
        "| configuration | users held (p95 ≤ 250 ms, 0 failed) | p95 there | app CPU there | "
        "load generator CPU there | host CPU per reader there, ms/s (app/proxy/Locust/rest) | "
        "readers at 100 % of the host's cores | held ÷ that | first step over budget | saturated first |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        there, broke, cpu = r.at_capacity, r.broke, capacity_cpu.held(r)
        over = f"{broke.users:,}: p95 {fmt(broke.p95_ms)} ms, {broke.failures} failed" if broke else "none"
        per_reader = f"{cpu.host_ms:.2f} ({cpu.split()})" if cpu else "n/a"
        at_full = f"{cpu.readers_at_full:,.0f} ({cpu.host_cpus} cores)" if cpu else "n/a"
        lines.append(
            f"| {r.config.label} | **{r.capacity:,}** | {fmt(there.p95_ms) if there else 'n/a'} ms | "
            f"{fmt(there.app_cores, 2) if there else 'n/a'} cores | "
            f"{fmt(there.generator_cores, 2) if there else 'n/a'} cores | {per_reader} | {at_full} | "
            f"{capacity_cpu.percent(cpu.share) if cpu else 'n/a'} | {over} | {r.saturated} |"
        )
    return lines


def _capacity(results: list[ConfigResult], fragments: bool, replicas: int, products: int) -> int | None:
    for r in results:
        c = r.config
        if (c.fragments, c.replicas, c.products) == (fragments, replicas, products):
            return r.capacity
    return None


def _ratio(results: list[ConfigResult], products: int, replicas: int) -> str:
    on = _capacity(results, True, replicas, products)
    off = _capacity(results, False, replicas, products)
    if on is None or off is None:
        return "not run"
    if off == 0:
        return f"{on:,} ÷ 0 (off held not even the first step)"
    return f"{on / off:.1f}x ({on:,} ÷ {off:,})"


def goals_table(results: list[ConfigResult]) -> list[str]:
    """The issue's goals, as far as this run measured them."""
    main = _capacity(results, True, 2, 26)
    held_open = max((s.sessions or 0 for r in results for s in r.steps), default=0)
    memory = [r for r in results if r.memory and r.config.fragments]
    per_session = ", ".join(
        f"{r.config.name} {r.memory.kb_per_session:.0f} kB (limit {fmt(r.memory_limit_mb())} MB/replica)"
        for r in memory
        if r.memory
    )
    rows = [
        ("concurrent realistic users, one 2-core host, 2 replicas, 26 products, p95 ≤ 250 ms",
         f"{main:,}" if main is not None else "not run", "≥ 2,000"),
        ("live sessions held open in one run (highest step; `scripts/bench/bench_generator.py` for 5,000)",
         f"{held_open:,}", "≥ 5,000"),
        ("users served, fragments on ÷ off, 26 products (1 / 2 replicas)",
         f"{_ratio(results, 26, 1)} / {_ratio(results, 26, 2)}", "≥ 2x"),
        ("users served, fragments on ÷ off, 1,000 products (1 / 2 replicas)",
         f"{_ratio(results, 1000, 1)} / {_ratio(results, 1000, 2)}", "≥ 10x"),
        ("memory per live session (app RSS slope over sessions)", per_session or "not measured",
         "measured at capacity; limits derived from it"),
    ]  # fmt: skip
    lines = ["| figure | measured | goal |", "|---|---|---|"]
    lines += [f"| {figure} | {measured} | {goal} |" for figure, measured, goal in rows]
    return lines


def capacity_chart(results: list[ConfigResult], path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted({r.config.products for r in results})
    fig, axes = plt.subplots(1, len(scales), figsize=(5.2 * len(scales), 3.9), dpi=110, squeeze=False)
    for ax, products in zip(axes[0], scales, strict=True):
        cpu_axis = ax.twinx()
        for r in (r for r in results if r.config.products == products):
            steps = [s for s in r.steps if s.p95_ms is not None]
            users = [s.users for s in steps]
            style = {"color": COLORS[r.config.fragments], "marker": MARKERS.get(r.config.replicas, "x")}
            label = f"fragments {'on' if r.config.fragments else 'off'}, {r.config.replicas} repl."
            ax.plot(users, [s.p95_ms for s in steps], linewidth=1.6, markersize=4, label=label, **style)
            cpu_axis.plot(users, [s.app_cores or 0 for s in steps], linestyle="--", linewidth=1, alpha=0.7,
                          markersize=3, **style)  # fmt: skip
        ax.axhline(P95_BUDGET_MS, color="grey", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_ylim(0, P95_BUDGET_MS * 2.4)
        ax.set_xlabel("concurrent users (RealisticMix, think 10-30 s)")
        ax.set_ylabel("p95 latency, ms (solid)")
        cpu_axis.set_ylabel("app server CPU, cores (dashed)")
        cpu_axis.set_ylim(0, 2.2)
        ax.set_title(f"{products:,} products: p95 against users (budget {P95_BUDGET_MS:.0f} ms)", fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def html_report(results: list[ConfigResult], text: str) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2, subplot_titles=("p95 latency (ms)", "app server CPU (cores)"))
    for r in results:
        steps = [s for s in r.steps if s.p95_ms is not None]
        users = [s.users for s in steps]
        color, dash = COLORS[r.config.fragments], "solid" if r.config.products < 1000 else "dot"
        line = {"color": color, "dash": dash}
        figure.add_trace(
            go.Scatter(x=users, y=[s.p95_ms for s in steps], name=r.config.label, line=line), 1, 1
        )
        cpu = [s.app_cores for s in steps]
        figure.add_trace(go.Scatter(x=users, y=cpu, name=r.config.label, line=line, showlegend=False), 1, 2)
    figure.add_hline(y=P95_BUDGET_MS, line_dash="dot", line_color="grey", row=1, col=1)
    figure.update_xaxes(type="log", title_text="concurrent users")
    figure.update_layout(height=460, title="Capacity: concurrent realistic users against p95 and server CPU")
    chart = figure.to_html(full_html=False, include_plotlyjs=True)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Capacity</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1300px}pre{white-space:pre-wrap}</style>"
        f"</head><body>{chart}<pre>{html.escape(text)}</pre></body></html>"
    )


def write_outputs(results: list[ConfigResult], report: Report) -> None:
    report.line("## Capacity per configuration")
    for line in summary_table(results):
        report.line(line)
    report.figure("cpu_limit", capacity_cpu.figures(results))
    if any(r.config.app for r in results):  # the goals and the chart are the example's
        return
    report.line()
    report.line("## Goals")
    for line in goals_table(results):
        report.line(line)
    if any(r.steps for r in results):
        capacity_chart(results, report.out / "capacity.png")
        (report.out / "report.html").write_text(html_report(results, "\n".join(report.lines)))
        report.line()
        report.line(f"chart: {report.out / 'capacity.png'}; report: {report.out / 'report.html'}")
