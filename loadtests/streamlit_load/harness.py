"""The shared core of every benchmark: where and when it ran, its command line, its output.

  Machine          date, host, cores, CPU model, load average, Python, Streamlit, Locust: the
                   header every recorded figure carries (docs/benchmarks.md asks for date and machine)
  parser()         an ArgumentParser with the options every benchmark shares (``--out``)
  Report           prints a benchmark's lines and records them with the machine in ``--out``:
                   ``<name>.txt`` (what was printed, header first) and ``<name>.json`` (figures)
  raise_fd_limit() the soft limit of open files up to what a run needs (a session is a socket)

Targets (a server under test and its probes) are in ``targets.py``, one Locust run in
``locust_runs.py``; both use this module's Report for what they print.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn, Self

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"
#: The environment of servers that machine-paced clients drive: benchmarks and the fragment/full
#: comparison pick back to back, as fast as the server answers, which no person does. The app's
#: per-session rerun limit is sized for people (streamlit_serving/rerun_limit.py) and would
#: close their sockets, so those servers run without it.
MACHINE_PACED = {"SERVE_RERUN_RATE": "0"}


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


@dataclass(frozen=True)
class Machine:
    """Where and when a benchmark ran."""

    date: str
    host: str
    cores: int
    cpu: str
    load_average: tuple[float, float, float]
    python: str
    streamlit: str
    locust: str
    system: str

    @classmethod
    def now(cls) -> Machine:
        return cls(
            date=datetime.now().strftime("%Y-%m-%d %H:%M"),
            host=socket.gethostname(),
            cores=len(os.sched_getaffinity(0)),
            cpu=_cpu_model(),
            load_average=tuple(round(x, 2) for x in os.getloadavg()),  # type: ignore[arg-type]
            python=platform.python_version(),
            streamlit=_version("streamlit"),
            locust=_version("locust"),
            system=platform.platform(),
        )

    def header(self, name: str) -> list[str]:
        """The two comment lines every benchmark's output starts with."""
        load = ", ".join(f"{x:.2f}" for x in self.load_average)
        return [
            f"# {name}  {self.date}  {self.host}: {self.cores} cores ({self.cpu}), load average {load}",
            f"# Python {self.python}, Streamlit {self.streamlit}, Locust {self.locust}, {self.system}",
        ]


EX_USAGE = 64  # bad input: the project's scripts all exit 64 naming the setting


class UsageParser(argparse.ArgumentParser):
    """argparse's parser, but a bad option or value exits 64 (EX_USAGE), as the project's scripts
    do, with argparse's usage line and its message naming the option."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def parser(doc: str | None, name: str) -> argparse.ArgumentParser:
    """A benchmark's ArgumentParser: its docstring as the help (first paragraph as description,
    the rest as epilog) and ``--out`` (default ``build/<name>``); bad input exits 64."""
    text = (doc or "").strip()
    description, _, epilog = text.partition("\n\n")
    built = UsageParser(
        prog=name,
        description=description,
        epilog=epilog or None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    built.add_argument(
        "--out", type=Path, default=BUILD / name, help=f"where the run is recorded (default build/{name})"
    )
    return built


@dataclass
class Report:
    """What a benchmark prints, kept with the machine it ran on.

    ``line()`` prints (stdout, flushed) and keeps; ``figure()`` keeps a named value for the JSON.
    On leaving the ``with`` block both files are written to ``out``, even when the run failed
    part-way (what was measured is kept; the JSON says ``"complete": false``).
    """

    name: str
    out: Path
    settings: dict[str, Any] = field(default_factory=dict)
    machine: Machine = field(default_factory=Machine.now)
    lines: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> Self:
        self.out.mkdir(parents=True, exist_ok=True)
        for text in self.machine.header(self.name):
            self.line(text)
        if self.settings:
            self.line("# " + ", ".join(f"{key} {value}" for key, value in self.settings.items()))
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        self.save(complete=exc_type is None)

    def line(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def figure(self, key: str, value: Any) -> Any:
        self.figures[key] = value
        return value

    @property
    def text_path(self) -> Path:
        return self.out / f"{self.name}.txt"

    def save(self, *, complete: bool = True) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        self.text_path.write_text("\n".join(self.lines) + "\n")
        record = {
            "name": self.name,
            "complete": complete,
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "machine": asdict(self.machine),
            "settings": self.settings,
            "figures": self.figures,
        }
        (self.out / f"{self.name}.json").write_text(json.dumps(record, indent=1, default=str) + "\n")


class FdLimitError(RuntimeError):
    """The hard limit of open files is below what the run needs (raise it: ulimit -Hn, limits.conf)."""


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE to the hard limit (a session is a socket; a load
    generator holding thousands needs thousands). Returns the new soft limit; raises
    FdLimitError naming both figures when even the hard limit is below ``needed``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, needed, 1 << 20)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < needed:
        raise FdLimitError(
            f"this run needs about {needed} open files, the hard limit is {hard} "
            "(raise it for the user: `ulimit -Hn`, /etc/security/limits.conf, or LimitNOFILE=)"
        )
    return soft
