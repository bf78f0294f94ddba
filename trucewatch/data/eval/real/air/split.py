"""Re-derive the dev / held-out split of the real air-summary set (documentation of how it was made).

Run: ``python trucewatch/data/eval/real/air/split.py`` - it prints which attack nights go to
which half and checks that dev.jsonl / heldout.jsonl agree.  The split is by attack night
(``event``: articles quoting one summary stay together), shuffled with a fixed seed, first half
dev, made before any rule was tuned.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20261203
HERE = Path(__file__).resolve().parent


def main() -> None:
    rows = {name: [json.loads(line) for line in (HERE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
                   if line.strip()] for name in ("dev", "heldout")}
    events = sorted({r["event"] for rs in rows.values() for r in rs})
    random.Random(SEED).shuffle(events)
    dev = set(events[: len(events) // 2])
    for name, rs in rows.items():
        for r in rs:
            assert (r["event"] in dev) == (name == "dev"), (name, r["id"])
    print(f"{len(events)} nights: {len(dev)} dev, {len(events) - len(dev)} held-out; files agree")


if __name__ == "__main__":
    main()
