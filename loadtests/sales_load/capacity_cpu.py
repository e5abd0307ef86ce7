"""How close a step of ``make capacity`` came to the host's CPU limit.

A step's **host CPU per reader** is the host's busy cores over its hold (``HostProbe``: /proc/stat,
every CPU but idle and iowait) divided by its users, in ms of CPU per second per reader; where the
step recorded them, split into the app replicas' (cgroups), the proxy's and the load generator's
(every Locust process) and the rest (the kernel's network work, Docker, anything else on the host).
At that cost the host's cores (``os.cpu_count()``: the CPUs /proc/stat sums over, read once per
configuration by ``run_config``) would hold ``cores ÷ CPU per reader`` readers at 100 % busy. A
configuration's verdict as a **share** of that figure, computed from its last held step, says how
close it came to the CPU limit: it is the host's busy share at that step, counted in readers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .capacity import SATURATED, ConfigResult, Step


@dataclass(frozen=True)
class CpuPerReader:
    """One step's host CPU per reader (ms of CPU per second), and the readers the host's cores
    would hold at that cost."""

    users: int
    host_cpus: int  # the host's cores (os.cpu_count())
    host_ms: float
    app_ms: float | None
    proxy_ms: float | None
    generator_ms: float | None
    rest_ms: float | None  # host - app - proxy - load generator, where all four were recorded

    @property
    def readers_at_full(self) -> float:
        """The readers the host's cores would hold at 100 % busy, at this step's CPU per reader."""
        return self.host_cpus * 1000 / self.host_ms

    @property
    def share(self) -> float:
        """This step's users as a share of ``readers_at_full`` (the host's busy share)."""
        return self.users / self.readers_at_full

    @property
    def host_is_the_limit(self) -> bool:
        return self.share >= SATURATED

    def split(self) -> str:
        """``app/proxy/Locust/rest`` in ms per reader, ``n/a`` for a part the step did not record."""
        parts = (self.app_ms, self.proxy_ms, self.generator_ms, self.rest_ms)
        return "/".join("n/a" if ms is None else f"{ms:.2f}" for ms in parts)

    def record(self) -> dict[str, Any]:
        return asdict(self) | {"readers_at_full": self.readers_at_full, "share": self.share}


def percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def per_reader(step: Step, host_cpus: int) -> CpuPerReader | None:
    """``step``'s host CPU per reader on a host of ``host_cpus`` cores; None without a host reading."""
    if step.host_cores is None or step.host_cores <= 0 or step.users <= 0 or host_cpus <= 0:
        return None
    parts = (step.app_cores, step.proxy_cores, step.generator_cores)
    rest = None if None in parts else step.host_cores - sum(p for p in parts if p is not None)

    def ms(cores: float | None) -> float | None:
        return None if cores is None else cores * 1000 / step.users

    return CpuPerReader(
        step.users, host_cpus, step.host_cores * 1000 / step.users,
        ms(step.app_cores), ms(step.proxy_cores), ms(step.generator_cores), ms(rest),
    )  # fmt: skip


def held(result: ConfigResult) -> CpuPerReader | None:
    """The configuration's verdict against the CPU limit: its last held step's figures."""
    step = result.at_capacity
    return per_reader(step, result.host_cpus) if step else None


def verdict(result: ConfigResult) -> str:
    """One line: the held step's CPU per reader, the readers at 100 % and the share."""
    cpu = held(result)
    if cpu is None:
        return "CPU limit: n/a (no held step with a host CPU reading)"
    limit = (
        "the host's cores are the limit"
        if cpu.host_is_the_limit
        else f"the host's cores are not the limit ({percent(cpu.share)} busy)"
    )
    return (
        f"CPU limit: at {cpu.users:,} users the host used {cpu.host_ms:.2f} ms of CPU per second per "
        f"reader (app/proxy/Locust/rest {cpu.split()}); its {cpu.host_cpus} cores would hold "
        f"{cpu.readers_at_full:,.0f} readers at 100 %: capacity {percent(cpu.share)} of that; {limit}"
    )


def figures(results: list[ConfigResult]) -> dict[str, Any]:
    """Per configuration: the host's cores, every step's figures and the held one's, for the JSON."""
    out = {}
    for result in results:
        steps = [per_reader(step, result.host_cpus) for step in result.steps]
        there = held(result)
        out[result.config.name] = {
            "host_cpus": result.host_cpus,
            "steps": [cpu.record() for cpu in steps if cpu is not None],
            "held": there.record() if there else None,
        }
    return out
