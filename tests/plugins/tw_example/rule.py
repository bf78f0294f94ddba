"""``night_fire``: fire between 22:00 and 05:00 UTC, when the agreement's local truce forbids any."""

from __future__ import annotations

from typing import Any

import numpy as np

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules import AdjudicationConfig, Hit, PerRule
from trucewatch.model import UNDETERMINED, Rule
from trucewatch.report.osce import Block
from trucewatch.report.sections import ReportSection


def night_fire(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    hour = (cols.t[cand] % 86400.0) / 3600.0
    idx = cand[np.isin(cols.kind[cand], cfg.fire_kinds) & ((hour >= 22.0) | (hour < 5.0))]
    return [Hit(int(e), rule.id, Rule("night_fire"), UNDETERMINED, float(cols.conf[e]),
                [f"Fire at night ({(cols.t[e] % 86400) / 3600:.1f} h UTC), when the night truce forbids any."])
            for e in idx.tolist()]


RULE = PerRule("night_fire", "fire between 22:00 and 05:00 UTC (night truce)", night_fire)


def night_truce_block(ctx: Any) -> Block | None:
    """A top-level section of the daily report: the night truce's findings in the reader's view."""
    n = sum(1 for v in ctx.rows if v["rule"] == "night_fire")
    return Block("night_truce", "Night truce", f"<p>{n} finding(s) of fire at night.</p>")


SECTION = ReportSection("night_truce", block=night_truce_block, description="the night truce's findings",
                        after="corrections")
