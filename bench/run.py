"""The connector's benchmark: each scenario against its reference, side by side, with its targets.

    .venv/bin/python bench/run.py                   # every scenario, 3 runs each (about 20 minutes)
    .venv/bin/python bench/run.py --quick           # smaller counts, 1 run each (a few minutes)
    .venv/bin/python bench/run.py --only fanout     # one scenario (repeatable)
    .venv/bin/python bench/run.py --only postgres   # scenarios ingest, fanout and delivery on PostgreSQL

Scenarios: ingest, fanout, delivery, retention, metrics (on SQLite); postgres-ingest,
postgres-fanout, postgres-delivery (``postgres`` = the three). Each prints every run, then min /
median / max of every measure, and each target as MET or NOT MET on the median; the load average
is printed at the start and end of every run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import CORES  # noqa: E402
from bench.databases import Databases, Postgres  # noqa: E402
from bench.env import Env  # noqa: E402
from bench.procs import Hosting, Receiver, logged_problems  # noqa: E402
from bench.report import Case, Sample, loadavg, print_summary, run_case, say  # noqa: E402
from bench.scenarios import delivery, fanout, ingest, metrics_scrape, retention  # noqa: E402

SQLITE_SCENARIOS = ("ingest", "fanout", "delivery", "retention", "metrics")
POSTGRES_SCENARIOS = ("postgres-ingest", "postgres-fanout", "postgres-delivery")


def sqlite_cases(env: Env, databases: Databases, chosen: set[str]) -> list[Case]:
    cases: list[Case] = []
    if "ingest" in chosen:
        cases += ingest.cases(env, databases, [Hosting()])
    if "fanout" in chosen:
        cases += fanout.cases(env, databases, [fanout.Workers(1)], [fanout.Workers(0), fanout.Workers(1)])
    if "delivery" in chosen:
        cases += delivery.cases(env, databases, [1])
    if "retention" in chosen:
        cases += retention.cases(env, databases)
    if "metrics" in chosen:
        cases += metrics_scrape.cases(env, databases)
    return cases


def postgres_cases(env: Env, databases: Databases, chosen: set[str]) -> list[Case]:
    cases: list[Case] = []
    if "postgres-ingest" in chosen:
        hostings = [Hosting(), Hosting("gunicorn", 1), Hosting("gunicorn", 2)]
        cases += ingest.cases(env, databases, hostings)
    workers = [fanout.Workers(1), fanout.Workers(3)]
    if "postgres-fanout" in chosen:
        cases += fanout.cases(env, databases, workers, workers)
    if "postgres-delivery" in chosen:
        cases += delivery.cases(env, databases, [1, 3])
    return cases


def with_child_logs(case: Case) -> Case:
    """The case, its runs noting what its processes logged at warning level or worse."""

    def run() -> Sample:
        logged_problems()  # what an earlier failed run left
        sample = case.run()
        sample.notes += logged_problems()
        return sample

    return dataclasses.replace(case, run=run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller counts, and 1 run per scenario unless --repeat")
    parser.add_argument(
        "--only",
        action="append",
        choices=(*SQLITE_SCENARIOS, "postgres", *POSTGRES_SCENARIOS),
        help="run this scenario only (repeatable); all of them by default",
    )
    parser.add_argument("--repeat", type=int, help="runs per scenario (default 3, or 1 with --quick)")
    args = parser.parse_args()
    repeats = args.repeat or (1 if args.quick else 3)
    chosen = set(args.only or (*SQLITE_SCENARIOS, *POSTGRES_SCENARIOS))
    if "postgres" in chosen:
        chosen |= set(POSTGRES_SCENARIOS)

    say(
        f"billrun-connector bench{' (quick)' if args.quick else ''}: {CORES} cores, Python {platform.python_version()}, "
        f"{repeats} run{'s' if repeats > 1 else ''} per scenario; load average at the start {loadavg()}"
    )
    with tempfile.TemporaryDirectory(prefix="billrun-bench-") as folder:
        receiver = Receiver()
        postgres: Postgres | None = None
        try:
            env = Env(args.quick, receiver)
            sqlite = Databases(Path(folder))
            say(f"SQLite: {sqlite.describe()}")
            cases = sqlite_cases(env, sqlite, chosen)
            if chosen & set(POSTGRES_SCENARIOS):
                try:
                    postgres = Postgres.start()
                except (RuntimeError, OSError) as exc:
                    say(f"PostgreSQL scenarios SKIPPED: PostgreSQL could not be installed or started ({exc})")
                else:
                    say(f"PostgreSQL: {postgres.describe()}")
                    cases += postgres_cases(env, postgres, chosen)
            verdicts = []
            for case in cases:
                verdicts += run_case(with_child_logs(case), repeats)
        finally:
            receiver.stop()
            if postgres is not None:
                postgres.stop()
    print_summary(verdicts, repeats)
    say(f"load average at the end {loadavg()}")


if __name__ == "__main__":
    main()
