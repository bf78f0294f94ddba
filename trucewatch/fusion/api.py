"""Public fusion API: batch :func:`fuse` and streaming :class:`IncrementalFusion`.

Both convert pydantic observations once (rejecting bad records with a named
field), run the columnar core (trucewatch.fusion.core) and materialize
:class:`~trucewatch.model.Event` objects with their explanation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from trucewatch.fusion.arrays import (
    FAMILY_NAMES,
    TEXT,
    FusionInput,
    FusionInputError,
    RecordError,
    concat,
    from_observations,
    observation_quality,
)
from trucewatch.fusion.confidence import Contribution, explain
from trucewatch.fusion.config import FusionConfig
from trucewatch.fusion.core import EventTable, fuse_arrays
from trucewatch.fusion.gating import gate_pairs, position_pairs, salvo_pairs
from trucewatch.model import Event, Location, Observation, ObservationKind, Source, from_unix

if TYPE_CHECKING:
    from trucewatch.agreement import Agreement

log = logging.getLogger(__name__)


@dataclass
class FusionResult:
    events: list[Event]
    rejected: list[RecordError] = field(default_factory=list)


def _origin_cols(good: list[Observation]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Launch positions carried as attributes (air tracks), NaN elsewhere."""
    n = len(good)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    err = np.full(n, np.nan)
    any_ = False
    for i, o in enumerate(good):
        if o.kind != ObservationKind.AIR_TRACK:
            continue
        org = o.attributes.get("origin")
        if isinstance(org, dict):
            try:
                la, lo, er = float(org["lat"]), float(org["lon"]), float(org.get("err_m", 5000.0))
            except (KeyError, TypeError, ValueError):
                continue
            if np.isfinite([la, lo, er]).all() and abs(la) <= 90 and abs(lo) <= 180 and er > 0:
                lat[i], lon[i], err[i] = la, lo, er
                any_ = True
    return (lat, lon, err) if any_ else None


def _loc(lat: float, lon: float, maj: float, mnr: float, ang: float) -> Location:
    # clipped to the model's limit: a fused region-wide claim (e.g. an air summary) can round just past it
    maj = float(min(max(maj, 1.0), 500_000.0))
    return Location(lat=float(lat), lon=float(lon), err_major_m=maj, err_minor_m=float(min(max(mnr, 1.0), maj)),
                    err_angle_deg=float(ang) % 180.0)


def events_from_table(table: EventTable, fi: FusionInput, good: list[Observation],
                      sources: dict[str, Source]) -> list[Event]:
    """Materialize events with their explanation (one pass per event, at the edge)."""
    out: list[Event] = []
    o = fi.obs
    # plain Python lists: this loop runs once per event and member, at the edge
    rel = table.rel_eff.tolist()
    copy = fi.copy.tolist()
    group = fi.group.tolist()
    skind = [str(k) for k in fi.source_kind.tolist()]
    ids = [str(x) for x in o.ids.tolist()]
    tier = fi.tier.tolist()
    amb = table.ambiguity.tolist()
    beta = table.assoc_prob.tolist() if table.assoc_prob is not None else [1.0] * len(amb)
    kval = [m.kind.value for m in good]
    for e in range(len(table)):
        rows = table.members(e).tolist()
        groups: dict[int, list[int]] = {}
        for r in rows:
            groups.setdefault(group[r], []).append(r)
        contribs = []
        for rs in groups.values():
            best = max(rs, key=lambda r: (rel[r], not copy[r], ids[r]))
            ob = good[best]
            src = sources.get(ob.source_id)
            name = f"{skind[best]} {ob.source_id!r}"
            if kval[best] == "report_claim":
                name = f"post {ob.attributes.get('origin_id') or ob.id} via {ob.source_id!r}"
            _, qnote = observation_quality(ob)
            note = f"{kval[best]}, source reliability {src.reliability:.2f}" if src else kval[best]
            if qnote:
                note += f", {qnote}"
            if amb[best] > 1:
                note += f", fits {amb[best]} events so its support is divided"
            if beta[best] < 0.995:
                note += (f", joined with association probability {beta[best]:.2f} (reports or heat this close "
                         "turn up here by chance too)")
            contribs.append(Contribution(name, float(rel[best]), len(rs), note))
        conf = float(table.confidence[e])
        expl = explain(contribs, int(table.n_copies[e]), float(table.nis[e]), len(rows), conf)
        kinds = sorted({kval[r] for r in rows})
        origin = None
        if table.has_origin[e]:
            origin = _loc(table.o_lat[e], table.o_lon[e], table.o_major[e], table.o_minor[e], table.o_angle[e])
        attrs: dict[str, Any] = {
            "family": FAMILY_NAMES[int(table.family[e])],
            "n_observations": len(rows),
            # independent lines of evidence (source kind and operator): what verification counts
            "n_independent": int(table.n_lines[e]) if table.n_lines is not None else int(table.n_groups[e]),
            "n_groups": int(table.n_groups[e]),
            "n_copies": int(table.n_copies[e]),
            "kinds": kinds,
            "source_kinds": sorted({skind[r] for r in rows}),
            "independent_groups": [c.group for c in sorted(contribs, key=lambda c: -c.support)],
        }
        if table.kind[e] == "fire":
            attrs["impact_known"] = "impact" in kinds or "explosion" in kinds
        n_text = sum(tier[r] == TEXT for r in rows)
        if n_text and len(rows) > 1:
            attrs["n_reports"] = int(n_text)
        out.append(Event.model_construct(
            id=str(table.ids[e]), kind=str(table.kind[e]), time=from_unix(table.t[e]),
            time_sigma_s=float(table.t_sigma[e]),
            location=_loc(table.lat[e], table.lon[e], table.err_major[e], table.err_minor[e], table.err_angle[e]),
            origin=origin, observation_ids=sorted(ids[r] for r in rows), confidence=min(max(conf, 0.0), 1.0),
            attributes=attrs, explanation=expl))
    out.sort(key=lambda ev: (ev.time, ev.id))
    return out


def fuse_detailed(observations: list[Observation], sources: dict[str, Source],
                  config: FusionConfig | None = None) -> FusionResult:
    """Events plus the observations that were rejected (record, field, reason)."""
    config = config or FusionConfig()
    fi, good, errors = from_observations(observations, sources, config)
    if errors and config.strict:
        raise FusionInputError(errors)
    for err in errors:
        log.warning("fusion: rejected %s", err)
    if not good:
        return FusionResult([], errors)
    table = fuse_arrays(fi, config, origin_cols=_origin_cols(good))
    return FusionResult(events_from_table(table, fi, good, sources), errors)


def fuse(observations: list[Observation], sources: dict[str, Source], agreement: Agreement | None = None,
         config: FusionConfig | None = None) -> list[Event]:
    """Group observations into events (batch).  Bad records are logged and
    skipped (``config.strict`` raises FusionInputError instead); use
    :func:`fuse_detailed` to get them back."""
    del agreement  # association does not depend on the agreement; kept for a stable signature
    return fuse_detailed(observations, sources, config).events


class IncrementalFusion:
    """Streaming fusion: ``add`` observations, get the events that changed.

    The batch result decomposes over connected components of the gate graph
    (every association decision uses only gate-passing pairs or shared
    identities), so re-running the batch on the components that new rows touch
    gives exactly the batch result on everything seen so far.  Judging the
    changed events and advancing the workflow is the pipeline's
    (trucewatch.pipeline.IncrementalPipeline): fusion knows nothing of rules.
    """

    def __init__(self, sources: dict[str, Source], agreement: Agreement | None = None,
                 config: FusionConfig | None = None) -> None:
        del agreement  # association does not depend on the agreement; kept for a stable signature (as fuse)
        self.sources = dict(sources)
        self.config = config or FusionConfig()
        self.obs: list[Observation] = []
        self.by_id: dict[str, Observation] = {}
        self.fi: FusionInput | None = None
        self.parent: list[int] = []
        self.members: dict[int, list[int]] = {}
        self.events: dict[str, Event] = {}
        self.event_of_row: dict[int, str] = {}
        self.rejected: list[RecordError] = []
        self.removed_events: list[str] = []

    # union-find over rows (path halving)
    def _find(self, a: int) -> int:
        p = self.parent
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):  # union by size: smaller list moves
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))

    def add(self, observations: list[Observation]) -> list[Event]:
        """Add observations; returns the events that changed (``removed_events``: those gone)."""
        fresh = [o for o in observations if not (isinstance(o, Observation) and o.id in self.by_id)]
        fi_new, good, errors = from_observations(fresh, self.sources, self.config)
        self.rejected += errors
        if errors and self.config.strict:
            raise FusionInputError(errors)
        for err in errors:
            log.warning("fusion: rejected %s", err)
        if not good:
            return []
        n_old = len(self.obs)
        self.fi = fi_new if self.fi is None else concat(self.fi, fi_new)
        self.obs += good
        for o in good:
            self.by_id[o.id] = o
        n = len(self.obs)
        self.parent += list(range(n_old, n))
        for r in range(n_old, n):
            self.members[r] = [r]
        fi = self.fi
        new_rows = np.arange(n_old, n)
        old_rows = np.arange(n_old)
        # candidate old rows: those whose time window overlaps the new rows' windows
        if n_old:
            reach = float(np.max(fi.hi[new_rows] - fi.lo[new_rows]))
            near = (fi.hi[:n_old] >= fi.lo[new_rows].min() - reach) & (fi.lo[:n_old] <= fi.hi[new_rows].max() + reach)
            old_rows = old_rows[near]
        edges = []
        nontext_new = new_rows[fi.tier[new_rows] != TEXT]
        gv = fi.gate_view()  # batch gates flights that struck as fire too (core.associate)
        for g in (fi, gv) if gv is not fi else (fi,):
            edges.append(gate_pairs(g, new_rows, old_rows[fi.tier[old_rows] != TEXT], self.config)[:2])
            edges.append(gate_pairs(g, nontext_new, old_rows[fi.tier[old_rows] == TEXT], self.config)[:2])
            wi, wj, _ = gate_pairs(g, new_rows, None, self.config)
            keep = ~((fi.tier[wi] == TEXT) & (fi.tier[wj] == TEXT))
            edges.append((wi[keep], wj[keep]))
        edges.append(position_pairs(fi, new_rows, old_rows, self.config.weapon_position_m))
        edges.append(position_pairs(fi, new_rows, None, self.config.weapon_position_m))
        edges.append(salvo_pairs(fi, new_rows, old_rows, self.config.salvo_spread_m, self.config.fire_mission_window_s))
        edges.append(salvo_pairs(fi, new_rows, None, self.config.salvo_spread_m, self.config.fire_mission_window_s))
        for i, j in edges:
            for a, b in zip(i.tolist(), j.tolist(), strict=True):
                self._union(a, b)
        # shared identities and pair ids (any time)
        for keys_rows, keys in ((fi.link_idx, fi.link_key), (np.arange(n)[fi.pair >= 0], fi.pair[fi.pair >= 0])):
            newk = set(keys[keys_rows >= n_old].tolist())
            if not newk:
                continue
            sel = np.isin(keys, list(newk))
            first: dict[int, int] = {}
            for r, k in zip(keys_rows[sel].tolist(), keys[sel].tolist(), strict=True):
                if k in first:
                    self._union(first[k], r)
                else:
                    first[k] = r
        roots = {self._find(int(r)) for r in new_rows}
        affected = np.sort(np.fromiter((r for root in roots for r in self.members[root]), np.int64))
        sub = fi.take(affected)
        sub_good = [self.obs[r] for r in affected]
        table = fuse_arrays(sub, self.config, origin_cols=_origin_cols(sub_good))
        new_events = events_from_table(table, sub, sub_good, self.sources)
        old_ids = {self.event_of_row[int(r)] for r in affected if int(r) in self.event_of_row}
        new_ids = {e.id for e in new_events}
        self.removed_events = sorted(old_ids - new_ids)
        for eid in self.removed_events:
            self.events.pop(eid, None)
        changed = []
        for ev in new_events:
            old = self.events.get(ev.id)
            if old is None or old.model_dump() != ev.model_dump():
                changed.append(ev)
            self.events[ev.id] = ev
        pos = {o.id: r for r, o in zip(affected.tolist(), sub_good, strict=True)}
        for ev in new_events:
            for oid in ev.observation_ids:
                self.event_of_row[pos[oid]] = ev.id
        return changed

    def all_events(self) -> list[Event]:
        return sorted(self.events.values(), key=lambda e: (e.time, e.id))
