"""``python -m trucewatch.bench NAME [--quick] [--seed N] [--pretty]``: one benchmark in a fresh interpreter.

Why a fresh interpreter: a benchmark compares our code with a baseline in the same
process, and what else that process has imported changes both sides (the full command
line imports every stage; the garbage collector then walks their objects during timed
loops).  ``trucewatch bench NAME`` runs this module so each measurement starts clean.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m trucewatch.bench")
    ap.add_argument("name")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pretty", action="store_true")
    a = ap.parse_args(argv)
    mod = importlib.import_module(f"trucewatch.bench.{a.name}")
    result = mod.run(quick=a.quick, seed=a.seed)
    print(json.dumps(result, indent=2 if a.pretty else None, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
