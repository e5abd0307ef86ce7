"""Outputs of ``make loadtest`` (``loadtest.py``): summary.md, report.html (self-contained plotly)
and comparison.png.

report.html has four charts per comparison: latency percentiles, server CPU per interaction,
bytes per interaction, throughput over time (plotly.js inlined once, so the file opens offline).
comparison.png (matplotlib) is the one chart the README shows: fragment/full ratios per model.
"""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from streamlit_load.harness import Machine

from .comparison import Comparison

COLORS = {"fragment": "#2e7d32", "full": "#c62828"}
METRICS = (
    ("cpu_ms_per_interaction", "server CPU / interaction"),
    ("bytes_per_interaction", "bytes / interaction"),
    ("median_ms", "median latency"),
)


def fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or value != value else f"{value:,.{digits}f}"


def summary_markdown(comparisons: list[Comparison], args: argparse.Namespace) -> str:
    machine = Machine.now()
    load = ", ".join(f"{x:.2f}" for x in machine.load_average)
    lines = [
        f"# Load test: fragment reruns vs full reruns ({machine.date})",
        "",
        f"{machine.host}: {machine.cores} cores ({machine.cpu}), load average {load} at the end; "
        f"Python {machine.python}, Streamlit {machine.streamlit}, Locust {machine.locust}.",
        "",
        f"Target `{args.target}`; {args.users} users per scenario, spawn rate {args.spawn_rate:g}/s, "
        f"{args.duration} s per run, first {args.warmup:g} s after the first interaction not counted; "
        f"browser message cache {args.message_cache} (on = browser-like, the figures the thresholds judge); "
        f"sign-in {f'on (each user signed in once as {args.sign_in})' if args.sign_in else 'off'}; "
        f"server options {' '.join(args.server_option) or '(config.toml)'}. "
        "Locust cores: what the load generator itself used in the same window (it shares this host's cores).",
        "",
        "| model | scenario | interactions | failed | median ms | p95 ms | req/s | server CPU ms/interaction "
        "| bytes/interaction | max RSS MB | max sessions | Locust cores |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in comparisons:
        for r in (c.fragment, c.full):
            lines.append(
                f"| {c.label} | {r.scenario} | {r.requests} | {r.failures_all} | {fmt(r.median_ms, 0)} "
                f"| {fmt(r.percentiles_ms['95%'], 0)} | {fmt(r.rps)} | {fmt(r.cpu_ms_per_interaction)} "
                f"| {fmt(r.bytes_per_interaction, 0)} | {fmt(r.rss_max_mb, 0)} | {r.sessions_max or 'n/a'} "
                f"| {fmt(r.generator_cores, 2)} |"
            )
    seen = [(c.label, r.scenario, r.prometheus) for c in comparisons for r in (c.fragment, c.full)
            if r.prometheus]  # fmt: skip
    seen += [(c.label, "mixed", c.mixed) for c in comparisons if c.mixed]
    if seen:  # the stack's Prometheus (OBSERVABILITY=1) beside the load test's own figures
        lines += [
            "",
            "| model | scenario | Locust interactions | server-counted | cgroup CPU ms/interaction "
            "| Prometheus CPU ms/interaction | runs' own thread CPU ms/run by kind |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, scenario, p in seen:
            alone = p.get("against_alone", {})
            threads = ", ".join(
                f"{kind} {ms:.2f}" + (f" ({alone[kind]:.2f}x alone)" if kind in alone else "")
                for kind, ms in sorted(p["thread_cpu_ms_per_run"].items())
            )
            cgroup, prom = p["cgroup_cpu_ms_per_interaction"], p["prometheus_cpu_ms_per_interaction"]
            lines.append(
                f"| {name} | {scenario} | {p['locust_interactions']} | {int(p['server_interactions'])} "
                f"| {fmt(cgroup, 2)} | {fmt(prom, 2)} | {threads or 'n/a'} |"
            )
    lines += ["", *ratio_table(comparisons)]
    lines += ["", "| model | check | value | limit | result |", "|---|---|---|---|---|"]
    for c in comparisons:
        for item in c.checks:
            value = item["value"]
            shown = fmt(value, 2) if isinstance(value, float) else str(value)
            lines.append(
                f"| {c.label} | {item['check']} | {shown} | {item['limit']} | "
                f"{'pass' if item['ok'] else '**FAIL**'} |"
            )
    verdict = all(item["ok"] for c in comparisons for item in c.checks)
    lines += ["", f"**{'PASS' if verdict else 'FAIL'}**", ""]
    return "\n".join(lines)


def ratio_table(comparisons: list[Comparison]) -> list[str]:
    """fragment/full per model and metric: browser-like first, the cache-off run beside it."""
    lines = [
        "| model | fragment / full | browser-like (message cache on) | cache off |",
        "|---|---|---|---|",
    ]
    models = list(dict.fromkeys(c.model for c in comparisons))
    for model in models:
        by_cache = {c.message_cache: c for c in comparisons if c.model == model}
        for metric, label in METRICS:
            if model.delay and metric != "median_ms":
                continue
            shown = [
                fmt(by_cache[cache].ratio(metric), 2) if cache in by_cache else "not run"
                for cache in (True, False)
            ]
            note = " (one sleep against two: an illustration)" if model.delay else ""
            lines.append(f"| {model.name} | {label}{note} | {shown[0]} | {shown[1]} |")
    return lines


def html_report(comparisons: list[Comparison], summary: str) -> str:
    import plotly.graph_objects as go

    figures = []
    for c in comparisons:
        runs = (c.fragment, c.full)
        latency = go.Figure(
            [
                go.Bar(
                    name=r.scenario,
                    x=list(r.percentiles_ms),
                    y=list(r.percentiles_ms.values()),
                    marker_color=COLORS[r.scenario],
                )
                for r in runs
            ]
        )
        latency.update_layout(title=f"{c.label}: latency percentiles (ms)", barmode="group")
        per_interaction = go.Figure(
            [
                go.Bar(
                    name=r.scenario,
                    x=["server CPU ms", "kB received"],
                    y=[r.cpu_ms_per_interaction or 0, r.bytes_per_interaction / 1000],
                    marker_color=COLORS[r.scenario],
                )
                for r in runs
            ]
        )
        per_interaction.update_layout(title=f"{c.label}: cost per interaction", barmode="group")
        throughput = go.Figure(
            [
                go.Scatter(
                    name=r.scenario,
                    x=[t for t, _ in r.throughput],
                    y=[v for _, v in r.throughput],
                    mode="lines",
                    line_color=COLORS[r.scenario],
                )
                for r in runs
            ]
        )
        throughput.update_layout(title=f"{c.label}: interactions per second", xaxis_title="seconds")
        cpu = go.Figure(
            [
                go.Scatter(
                    name=r.scenario,
                    x=[s["t"] for s in r.samples],
                    y=[s["cpu"] for s in r.samples],
                    mode="lines",
                    line_color=COLORS[r.scenario],
                )
                for r in runs
            ]
        )
        cpu.update_layout(title=f"{c.label}: server CPU seconds (cumulative)", xaxis_title="seconds")
        figures += [latency, per_interaction, throughput, cpu]
    parts = []
    for number, figure in enumerate(figures):
        figure.update_layout(height=360, margin={"l": 50, "r": 20, "t": 50, "b": 40})
        parts.append(figure.to_html(full_html=False, include_plotlyjs=number == 0))
    body = "\n".join(f'<div class="chart">{part}</div>' for part in parts)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Fragment vs full rerun load test</title>"
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}"
        ".chart{display:inline-block;width:49%;vertical-align:top}pre{white-space:pre-wrap}</style>"
        f"</head><body><pre>{html.escape(summary)}</pre>{body}</body></html>"
    )


def ratio_chart(comparisons: list[Comparison], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    comparisons = [c for c in comparisons if c.message_cache] or comparisons  # browser-like leads
    labels = [c.label for c in comparisons]
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=110)
    width = 0.25
    for index, (metric, label) in enumerate(METRICS):
        values = [c.ratio(metric) or 0 for c in comparisons]
        xs = [i + (index - 1) * width for i in range(len(comparisons))]
        bars = ax.bar(xs, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(comparisons)), labels)
    ax.set_ylabel("fragment / full rerun")
    cache = "browser-like clients (message cache on)" if comparisons[0].message_cache else "message cache off"
    ax.set_title(f"A fragment rerun's cost as a share of a full rerun's, {cache}", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.set_ylim(0, 1.15)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_outputs(comparisons: list[Comparison], args: argparse.Namespace) -> str:
    summary = summary_markdown(comparisons, args)
    (args.out / "summary.md").write_text(summary)
    if not args.no_report:
        (args.out / "report.html").write_text(html_report(comparisons, summary))
        ratio_chart(comparisons, args.out / "comparison.png")
    return summary
