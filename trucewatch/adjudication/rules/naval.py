"""A barred vessel in a sea zone (``naval_vessel_in_zone``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from trucewatch.adjudication.columns import EventColumns
from trucewatch.adjudication.rules.common import (
    AdjudicationConfig,
    Hit,
    PerRule,
    _fmt,
)
from trucewatch.model import UNDETERMINED, Rule


def naval(cols: EventColumns, agreement: Any, cfg: AdjudicationConfig, rule: Any, cand: np.ndarray) -> list[Hit]:
    hits: list[Hit] = []
    for e in cand[cols.kind[cand] == "vessel"].tolist():
        if cols.incident[e] != "barred_vessel_in_zone":
            continue
        flag = str(cols.flag[e] or "")
        f3 = {"UKR": "UA", "RUS": "RU"}.get(flag.upper(), flag.upper())
        party = next((p for p in agreement.parties if f3 == p), None)
        why = (f"Attributed to {party}: the vessel flies its flag ({flag})." if party
               else f"Party undetermined: the vessel's flag ({flag or 'unknown'}) is not a party's.")
        hits.append(Hit(e, rule.id, Rule.NAVAL_VESSEL_IN_ZONE, party or UNDETERMINED, float(cols.conf[e]),
                        [f"Barred vessel in a sea zone at {_fmt(cols.lat[e], cols.lon[e], cols.err[e])}.", why]))
    return hits


RULE = PerRule("naval_vessel_in_zone", "a barred vessel inside a maritime zone", naval)
