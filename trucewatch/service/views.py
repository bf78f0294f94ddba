"""What each role sees of a finding, and the queries behind it.

Queries read the violation table directly (R*Tree for the bounding box on
SQLite) and build plain dicts: no per-row model validation on the hot path.
Role filters are part of the SQL, so a page never holds rows the caller may
not see, and counts cannot leak them.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Text, and_, column, or_, select, text, type_coerce

from trucewatch.model import SourceKind, from_unix
from trucewatch.service.auth import Principal, Role
from trucewatch.store import Store
from trucewatch.store import schema as S

V = S.violations

#: Attribute keys that could place a sensor or name a monitor; never shown outside analysts.
SENSITIVE_KEYS = ("sensor", "monitor", "team", "station", "operator", "flight_id", "source")
#: Keys a liaison may use to name the party a finding concerns besides the attributed one.
CONCERN_KEYS = ("victim_party", "target_party")


@dataclass
class ViolationFilter:
    t_from: float | None = None
    t_to: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    rule: str | None = None
    party: str | None = None
    status: list[str] | None = None
    min_confidence: float | None = None
    limit: int = 500
    offset: int = 0


def _j(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


def concerns(v: dict[str, Any], party: str) -> bool:
    attrs = v.get("attributes") or {}
    return v.get("party") == party or any(attrs.get(k) == party for k in CONCERN_KEYS)


class Views:
    def __init__(self, store: Store, public_statuses: list[str], public_delay_s: float) -> None:
        self.store = store
        self.public_statuses = list(public_statuses)
        self.public_delay_s = public_delay_s
        self._kinds: dict[str, str] = {}
        self._kinds_at = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------- visibility
    def _visibility(self, p: Principal, now: float) -> Any:
        """SQL condition restricting violations to what ``p`` may see (None: all)."""
        if p.role in (Role.ADMINISTRATOR, Role.ANALYST):
            return None
        if p.role == Role.LIAISON:
            conds = [V.c.party == p.party]
            conds += [V.c.attributes[k].as_string() == p.party for k in CONCERN_KEYS]
            return or_(*conds)
        if p.role == Role.PUBLIC:
            cutoff = now - self.public_delay_s
            published = (select(S.transitions.c.violation_id)
                         .where(S.transitions.c.to_status.in_(self.public_statuses), S.transitions.c.at <= cutoff))
            return and_(V.c.status.in_(self.public_statuses), V.c.id.in_(published))
        return text("0 = 1")  # monitors see no findings

    def query(self, p: Principal, f: ViolationFilter, now: float | None = None) -> list[dict[str, Any]]:
        rows = self._select(p, f, now)
        return [self.render(p, _row(r)) for r in rows]

    def query_json(self, p: Principal, f: ViolationFilter, now: float | None = None) -> str:
        """The same as ``json.dumps(query(...))``, faster for unredacted views on
        SQLite: the stored JSON columns are copied into the answer as they are,
        never parsed and serialized again (the hot path of map clients)."""
        if p.role not in (Role.ADMINISTRATOR, Role.ANALYST) or self.store.dialect != "sqlite":
            return json.dumps(self.query(p, f, now), separators=(",", ":"))
        parts = []
        dumps = json.dumps
        for r in self._select(p, f, now):
            parts.append(
                f'{{"id":{dumps(r["id"])},"event_id":{dumps(r["event_id"])},"rule":{dumps(r["rule"])},'
                f'"party":{dumps(r["party"])},"confidence":{float(r["confidence"])!r},"status":{dumps(r["status"])},'
                f'"time":"{from_unix(r["t"]).isoformat()}","t":{float(r["t"])!r},"lat":{float(r["lat"])!r},'
                f'"lon":{float(r["lon"])!r},"location":{r["location"]},"origin":{r["origin"] or "null"},'
                f'"evidence":{r["evidence"]},"explanation":{dumps(r["explanation"])},'
                f'"attributes":{r["attributes"] or "{}"},"updated_at":{float(r["updated_at"])!r}}}')
        return "[" + ",".join(parts) + "]"

    def _select(self, p: Principal, f: ViolationFilter, now: float | None) -> list[dict[str, Any]]:
        now = time.time() if now is None else now
        q = select(V)
        vis = self._visibility(p, now)
        if vis is not None:
            q = q.where(vis)
        if f.t_from is not None:
            q = q.where(V.c.t >= f.t_from)
        if f.t_to is not None:
            q = q.where(V.c.t < f.t_to)
        if f.rule:
            q = q.where(V.c.rule == f.rule)
        if f.party:
            q = q.where(V.c.party == f.party)
        if f.status:
            q = q.where(V.c.status.in_(f.status))
        if f.min_confidence is not None:
            q = q.where(V.c.confidence >= f.min_confidence)
        if f.bbox is not None:
            q = self._bbox(q, f.bbox)
        q = q.order_by(V.c.t, V.c.id).offset(f.offset).limit(f.limit)
        # JSON columns come back as their stored text (no per-row result
        # processing); _row parses them, query_json copies them as they are.
        q = q.with_only_columns(*_TEXT_COLUMNS)
        with self.store.engine.connect() as c:
            rows = [r._asdict() for r in c.execute(q).all()]
        return rows

    def _bbox(self, q: Any, bbox: tuple[float, float, float, float]) -> Any:
        min_lon, min_lat, max_lon, max_lat = bbox
        if self.store.dialect == "sqlite":
            sub = text("SELECT id FROM viol_rtree WHERE max_lon >= :a AND min_lon <= :b "
                       "AND max_lat >= :c AND min_lat <= :d")
            sub = sub.bindparams(a=min_lon, b=max_lon, c=min_lat, d=max_lat).columns(column("id", Integer))
            return q.where(V.c.seq.in_(sub))
        return q.where(V.c.lon.between(min_lon, max_lon), V.c.lat.between(min_lat, max_lat))

    def get(self, p: Principal, violation_id: str, now: float | None = None) -> dict[str, Any] | None:
        """The violation as ``p`` sees it, or None when it is outside ``p``'s view."""
        now = time.time() if now is None else now
        q = select(V).where(V.c.id == violation_id)
        vis = self._visibility(p, now)
        if vis is not None:
            q = q.where(vis)
        with self.store.engine.connect() as c:
            r = c.execute(q).mappings().first()
        return None if r is None else self.render(p, _row(r))

    def raw(self, violation_id: str) -> dict[str, Any] | None:
        with self.store.engine.connect() as c:
            r = c.execute(select(V).where(V.c.id == violation_id)).mappings().first()
        return None if r is None else _row(r)

    # --------------------------------------------------------------- redaction
    def source_kinds(self, need: list[str] | None = None) -> dict[str, str]:
        """Source id -> kind, cached 10 s; refreshed at once when ``need`` names an unknown source."""
        with self._lock:
            stale = time.monotonic() - self._kinds_at > 10.0
            if stale or any(sid not in self._kinds for sid in need or ()):
                self._kinds = {s.id: s.kind.value for s in self.store.list_sources()}
                self._kinds_at = time.monotonic()
            return self._kinds

    def render(self, p: Principal, v: dict[str, Any]) -> dict[str, Any]:
        if p.role in (Role.ADMINISTRATOR, Role.ANALYST):
            return v
        kinds = self.source_kinds([str(e.get("source_id")) for e in v["evidence"]])
        if p.role == Role.LIAISON:
            out = dict(v)
            out["attributes"] = _clean_attrs(v["attributes"])
            out["evidence"] = [_liaison_evidence(e, kinds) for e in v["evidence"]]
            return out
        # public: no evidence identities, no explanation text, no attributes
        counts: dict[str, int] = {}
        for e in v["evidence"]:
            counts[str(e.get("kind"))] = counts.get(str(e.get("kind")), 0) + 1
        return {k: v[k] for k in ("id", "rule", "party", "status", "confidence", "time", "lat", "lon")} | {
            "location": {k: v["location"].get(k) for k in ("lat", "lon", "err_major_m", "err_minor_m", "err_angle_deg")},
            "origin": ({k: v["origin"].get(k) for k in ("lat", "lon", "err_major_m", "err_minor_m", "err_angle_deg")}
                       if v.get("origin") else None),
            "evidence_counts": counts,
        }

    def render_observation(self, p: Principal, o: dict[str, Any]) -> dict[str, Any]:
        if p.role in (Role.ADMINISTRATOR, Role.ANALYST):
            return o
        kinds = self.source_kinds([o["source_id"]])
        out = dict(o)
        out["attributes"] = _clean_attrs(o.get("attributes") or {})
        k = kinds.get(o["source_id"])
        if k is None or k in _WITHHELD_KINDS:
            out["source_id"] = f"withheld ({k or 'unknown source'})"
        return out


_WITHHELD_KINDS = {SourceKind.MONITOR_TEAM.value, SourceKind.ACOUSTIC_SENSOR.value, SourceKind.DRONE.value}


_JSON_COLUMNS = {"location", "origin", "evidence", "attributes"}
_TEXT_COLUMNS = [type_coerce(col, Text).label(col.name) if col.name in _JSON_COLUMNS else col for col in V.c]


def _clean_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if not any(s in k.lower() for s in SENSITIVE_KEYS)}


def _liaison_evidence(e: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    out = dict(e)
    k = kinds.get(str(e.get("source_id")))
    if k is None or k in _WITHHELD_KINDS:  # unknown sources are withheld too (fail closed)
        k = k or "unknown source"
        out["source_id"] = f"withheld ({k})"
        out["summary"] = f"{e.get('kind')} reported by a {k.replace('_', ' ')} (identity withheld)"
    return out


def _row(r: Any) -> dict[str, Any]:
    return {
        "id": r["id"], "event_id": r["event_id"], "rule": r["rule"], "party": r["party"],
        "confidence": r["confidence"], "status": r["status"], "time": from_unix(r["t"]).isoformat(),
        "t": r["t"], "lat": r["lat"], "lon": r["lon"], "location": _j(r["location"]), "origin": _j(r["origin"]),
        "evidence": _j(r["evidence"]) or [], "explanation": r["explanation"], "attributes": _j(r["attributes"]) or {},
        "updated_at": r["updated_at"],
    }


def observation_dict(o: Any) -> dict[str, Any]:
    d = o.model_dump(mode="json") if hasattr(o, "model_dump") else dict(o)
    return d
