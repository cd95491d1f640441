"""What a scenario measures, its targets, and how repeated runs are summed up and printed."""

from __future__ import annotations

import os
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field


class BenchError(RuntimeError):
    """A run could not measure what it set out to (a process did not start, a deadline passed)."""


@dataclass(frozen=True)
class Target:
    """A bound a measure must respect: ``<=`` or ``>=`` *bound*."""

    op: str
    bound: float

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound


@dataclass(frozen=True)
class Metric:
    """One number a run reports. *unit* is ``ms``, ``x`` (a ratio), ``/s``, ``s`` or empty."""

    key: str
    label: str
    unit: str = ""
    target: Target | None = None

    def format(self, value: float) -> str:
        if self.unit == "x":
            return f"{value:.2f}x"
        if self.unit == "ms":
            return f"{value:.2f} ms"
        if self.unit == "s":
            return f"{value:.2f} s"
        if self.unit == "/s":
            return f"{value:.0f}/s"
        return f"{value:g}"

    def describe_target(self) -> str:
        if self.target is None:
            return ""
        bound = Metric(self.key, self.label, self.unit).format(self.target.bound)
        return f"{self.target.op} {bound}"


@dataclass
class Sample:
    """What one run measured: values by metric key, and lines that say where the time went."""

    values: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Case:
    """A scenario in one set-up (database, server, workers), run once per repetition."""

    scenario: str
    setup: str
    title: str
    metrics: list[Metric]
    run: Callable[[], Sample]


@dataclass(frozen=True)
class Verdict:
    case: Case
    metric: Metric
    low: float | None
    median: float | None
    high: float | None

    @property
    def met(self) -> bool | None:
        if self.median is None or self.metric.target is None:
            return None
        return self.metric.target.met(self.median)


def loadavg() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def say(text: str = "") -> None:
    print(text, flush=True)


def run_case(case: Case, repeats: int) -> list[Verdict]:
    """Run *case* *repeats* times, print each run and the min / median / max of every metric."""
    say(f"\n== [{case.scenario}] {case.title}")
    say(f"   set-up: {case.setup}")
    samples: list[Sample] = []
    for number in range(1, repeats + 1):
        load_before = loadavg()
        started = time.monotonic()
        try:
            sample = case.run()
        except Exception as exc:  # one failed run must not hide the others
            say(f"   run {number}/{repeats}: FAILED: {exc}")
            if not isinstance(exc, BenchError):
                traceback.print_exc(file=sys.stdout)
            continue
        samples.append(sample)
        shown = ", ".join(
            f"{metric.label} {metric.format(sample.values[metric.key])}"
            for metric in case.metrics
            if metric.key in sample.values and metric.target is not None
        )
        say(
            f"   run {number}/{repeats} ({time.monotonic() - started:.0f} s; load average {load_before} -> "
            f"{loadavg()}): {shown}"
        )
        for note in sample.notes:
            say(f"      {note}")
    verdicts = [_verdict(case, metric, samples) for metric in case.metrics]
    width = max(len(metric.label) for metric in case.metrics)
    say(f"   {'':{width}}  {'min':>11} {'median':>11} {'max':>11}   (of {len(samples)} runs)")
    for verdict in verdicts:
        metric = verdict.metric
        if verdict.median is None:
            say(f"   {metric.label:{width}}  no result")
            continue
        row = " ".join(f"{metric.format(v):>11}" for v in (verdict.low, verdict.median, verdict.high))  # type: ignore[arg-type]
        if metric.target is not None:
            row += f"   target {metric.describe_target()}: {'MET' if verdict.met else 'NOT MET'}"
        say(f"   {metric.label:{width}}  {row}")
    return verdicts


def _verdict(case: Case, metric: Metric, samples: list[Sample]) -> Verdict:
    values = [s.values[metric.key] for s in samples if metric.key in s.values]
    if not values:
        return Verdict(case, metric, None, None, None)
    return Verdict(case, metric, min(values), statistics.median(values), max(values))


def print_summary(verdicts: list[Verdict], repeats: int) -> None:
    """Every target of the run, with the median it was judged on; the set-ups of one measure side by side."""
    say(f"\n== Targets (judged on the median of {repeats} run{'s' if repeats > 1 else ''})")
    measures = list(dict.fromkeys((v.case.scenario, v.metric.key) for v in verdicts))
    rows = sorted(
        (v for v in verdicts if v.metric.target is not None),
        key=lambda v: measures.index((v.case.scenario, v.metric.key)),
    )
    if not rows:
        say("   none measured")
        return
    for v in rows:
        median = "no result" if v.median is None else v.metric.format(v.median)
        verdict = "NO RESULT" if v.met is None else "MET" if v.met else "NOT MET"
        say(
            f"   {verdict:9} [{v.case.scenario}] {v.case.setup}: {v.metric.label} {median} (target {v.metric.describe_target()})"
        )
    met = sum(1 for v in rows if v.met)
    say(f"   {met} of {len(rows)} targets met")
