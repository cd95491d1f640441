"""CPU used by each process of a measurement and by the whole machine, read from /proc (Linux).

It says where the 2-core machine is the ceiling: every core busy (ours or other jobs'), or one
Python process at a full core (one interpreter lock), or neither (the time goes to waiting).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone
        return None
    return text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def process_seconds(pids: list[int], with_descendants: bool) -> tuple[float, int]:
    """CPU seconds (user + system, all threads) of *pids* and, if asked, their descendants; and how
    many processes that is."""
    todo = list(pids)
    if with_descendants:
        tree = _children()
        for pid in pids:
            stack = list(tree.get(pid, []))
            while stack:
                child = stack.pop()
                todo.append(child)
                stack.extend(tree.get(child, []))
    seconds = 0.0
    for pid in todo:
        fields = _stat_fields(pid)
        if fields is not None:
            seconds += (int(fields[11]) + int(fields[12])) / _TICK
    return seconds, len(todo)


def _machine() -> tuple[int, int]:
    """Busy and total jiffies of all cores since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already inside user
    return total - idle, total


@dataclass(frozen=True)
class Group:
    """Processes counted together under one name (e.g. three worker processes, or a server and its children)."""

    name: str
    pids: list[int]
    with_descendants: bool = False


class CpuWindow:
    """CPU use between ``start()`` and ``stop()``, per group of processes and for the machine."""

    def __init__(self, groups: list[Group]) -> None:
        self.groups = groups
        self._start: list[float] = []
        self._counts: list[int] = []
        self._machine: tuple[int, int] = (0, 0)
        self._wall = 0.0
        self.cores: dict[str, float] = {}
        self.machine_busy = 0.0

    def start(self) -> CpuWindow:
        measured = [process_seconds(g.pids, g.with_descendants) for g in self.groups]
        self._start = [seconds for seconds, _ in measured]
        self._counts = [count for _, count in measured]
        self._machine = _machine()
        self._wall = time.monotonic()
        return self

    def stop(self) -> CpuWindow:
        wall = max(time.monotonic() - self._wall, 1e-6)
        busy, total = _machine()
        for group, before in zip(self.groups, self._start, strict=True):
            after, _ = process_seconds(group.pids, group.with_descendants)
            self.cores[group.name] = max(after - before, 0.0) / wall
        span = max(total - self._machine[1], 1)
        self.machine_busy = (busy - self._machine[0]) / span * CORES
        return self

    def summary(self) -> str:
        """One line: cores used per group, by the machine, and what the ceiling is."""
        ours = sum(self.cores.values())
        parts = ", ".join(f"{name} {cores:.2f}" for name, cores in self.cores.items())
        others = max(self.machine_busy - ours, 0.0)
        line = f"CPU in cores: {parts}; machine {self.machine_busy:.2f} of {CORES} busy (other jobs {others:.2f})"
        return f"{line} -> {self.ceiling()}"

    def ceiling(self) -> str:
        if self.machine_busy >= 0.9 * CORES:
            return f"ceiling: the {CORES} cores (all busy)"
        single = [
            (cores, group.name)
            for group, count in zip(self.groups, self._counts, strict=True)
            if count == 1
            for cores in [self.cores[group.name]]
        ]
        if single:
            cores, name = max(single)
            if cores >= 0.85:
                return f"ceiling: the {name} process at {cores:.2f} of a core (one interpreter lock)"
        return "no CPU ceiling (the time goes to waiting: locks, I/O, polling)"
