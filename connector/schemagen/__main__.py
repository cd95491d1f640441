"""``python -m connector.schemagen [--check]``: regenerate ``schemas/``, ``docs/events.md`` and ``docs/billrun.md``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from connector.schemagen.output import check, source_root, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connector.schemagen", description=__doc__)
    parser.add_argument(
        "--root",
        type=Path,
        default=source_root(),
        help="repository root holding schemas/ and docs/ (default: this source checkout)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare: exit 1 and list the files that differ from what the generator makes",
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = check(args.root)
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        if stale:
            print("run: python -m connector.schemagen", file=sys.stderr)
        return 1 if stale else 0
    for path in write(args.root):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
