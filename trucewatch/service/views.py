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

from trucewatch.model import from_unix
from trucewatch.service import places as PL
from trucewatch.service.auth import Principal, Role
from trucewatch.sources.registry import identity_withheld, withheld_attributes
from trucewatch.store import Store
from trucewatch.store import schema as S

V = S.violations

#: Attribute keys that could place a sensor or name a monitor; never shown outside analysts.
SENSITIVE_KEYS = ("sensor", "monitor", "team", "station", "operator", "flight_id", "source")
#: A post's own words and where it was posted: withheld with the source's identity.
POST_KEYS = ("text", "url", "channel")
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
        rows = [self.render(p, _row(r)) for r in self._select(p, f, now)]
        return with_places(rows)

    def query_json(self, p: Principal, f: ViolationFilter, now: float | None = None) -> str:
        """The same as ``json.dumps(query(...), separators=(",", ":"))``, faster for
        unredacted views on SQLite: one parametrized SQL string on the driver's
        cursor (no SQLAlchemy statement building, compiling or Row objects), and
        the stored JSON columns copied into the answer as they are, never parsed
        and serialized again (the hot path of map clients)."""
        if p.role not in (Role.ADMINISTRATOR, Role.ANALYST) or self.store.dialect != "sqlite":
            return json.dumps(self.query(p, f, now), separators=(",", ":"))
        sql, params = _fast_sql(f)
        with self.store.engine.connect() as c:
            cur = c.connection.cursor()
            try:
                rows = cur.execute(sql, params).fetchall()
            finally:
                cur.close()
        dumps = json.dumps
        near = PL.load().nearest([r[7] for r in rows], [r[8] for r in rows])
        parts = [
            f'{{"id":{dumps(r[0])},"event_id":{dumps(r[1])},"rule":{dumps(r[2])},'
            f'"party":{dumps(r[3])},"confidence":{float(r[4])!r},"status":{dumps(r[5])},'
            f'"time":"{from_unix(r[6]).isoformat()}","t":{float(r[6])!r},"lat":{float(r[7])!r},'
            f'"lon":{float(r[8])!r},"location":{r[9]},"origin":{r[10] or "null"},'
            f'"evidence":{r[11] or "[]"},"explanation":{dumps(r[12])},'
            f'"attributes":{r[13] or "{}"},"updated_at":{float(r[14])!r},"place":{dumps(pl)}}}'
            for r, pl in zip(rows, near, strict=True)]
        return "[" + ",".join(parts) + "]"

    def _select(self, p: Principal, f: ViolationFilter, now: float | None) -> list[dict[str, Any]]:
        q = self.statement(p, f, now)
        with self.store.engine.connect() as c:
            rows = [r._asdict() for r in c.execute(q).all()]
        return rows

    def statement(self, p: Principal, f: ViolationFilter, now: float | None = None) -> Any:
        """The SELECT behind ``query`` (visibility, filters, page; JSON columns as text)."""
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
        return q.with_only_columns(*_TEXT_COLUMNS)

    def _bbox(self, q: Any, bbox: tuple[float, float, float, float]) -> Any:
        min_lon, min_lat, max_lon, max_lat = bbox
        if self.store.dialect == "sqlite":
            sub = text("SELECT id FROM viol_rtree WHERE max_lon >= :a AND min_lon <= :b "
                       "AND max_lat >= :c AND min_lat <= :d")
            sub = sub.bindparams(a=min_lon, b=max_lon, c=min_lat, d=max_lat).columns(column("id", Integer))
            return q.where(V.c.seq.in_(sub))
        # PostgreSQL: the store's filter, ``geom && ST_MakeEnvelope`` on the GiST index
        return self.store._bbox_filter(q, V, "viol_rtree", bbox)

    def get(self, p: Principal, violation_id: str, now: float | None = None) -> dict[str, Any] | None:
        """The violation as ``p`` sees it, or None when it is outside ``p``'s view."""
        now = time.time() if now is None else now
        q = select(V).where(V.c.id == violation_id)
        vis = self._visibility(p, now)
        if vis is not None:
            q = q.where(vis)
        with self.store.engine.connect() as c:
            r = c.execute(q).mappings().first()
        return None if r is None else with_places([self.render(p, _row(r))])[0]

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
        if identity_withheld(k):  # as the source's adapter declares; undeclared kinds too (fail closed)
            out["source_id"] = f"withheld ({k or 'unknown source'})"
            # a monitor's or a drone team's own words and links could name them: only a
            # public post's text (open sources) reaches roles outside the mission
            keys = withheld_attributes(k)
            for key in keys:
                if key in out["attributes"]:
                    out["attributes"][key] = None
            out["attributes"]["withheld"] = [key for key in keys if key in (o.get("attributes") or {})]
        return out


_JSON_COLUMNS = {"location", "origin", "evidence", "attributes"}
_TEXT_COLUMNS = [type_coerce(col, Text).label(col.name) if col.name in _JSON_COLUMNS else col for col in V.c]


_FAST_COLUMNS = ("id, event_id, rule, party, confidence, status, t, lat, lon, location, origin, evidence, "
                 "explanation, attributes, updated_at")
_RTREE_SQL = ("seq IN (SELECT id FROM viol_rtree WHERE max_lon >= ? AND min_lon <= ? "
              "AND max_lat >= ? AND min_lat <= ?)")


def _fast_sql(f: ViolationFilter) -> tuple[str, tuple[Any, ...]]:
    """SQLite text of ``Views._select`` for unrestricted views; values only as parameters."""
    where: list[str] = []
    params: list[Any] = []
    if f.t_from is not None:
        where.append("t >= ?")
        params.append(float(f.t_from))
    if f.t_to is not None:
        where.append("t < ?")
        params.append(float(f.t_to))
    if f.rule:
        where.append("rule = ?")
        params.append(f.rule)
    if f.party:
        where.append("party = ?")
        params.append(f.party)
    if f.status:
        where.append(f"status IN ({','.join('?' * len(f.status))})")
        params.extend(f.status)
    if f.min_confidence is not None:
        where.append("confidence >= ?")
        params.append(float(f.min_confidence))
    if f.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in f.bbox)
        where.append(_RTREE_SQL)
        params.extend((min_lon, max_lon, min_lat, max_lat))
    # Two phases: pick the page by (t, id) reading only narrow columns, then read
    # the full rows of that page (the sorter never holds the JSON columns).
    page = "SELECT seq FROM violations"
    if where:
        page += " WHERE " + " AND ".join(where)
    page += " ORDER BY t, id LIMIT ? OFFSET ?"
    params.extend((int(f.limit), int(f.offset)))
    return f"SELECT {_FAST_COLUMNS} FROM violations WHERE seq IN ({page}) ORDER BY t, id", tuple(params)


def with_places(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each finding with ``place``, its nearest settlement (see :mod:`places`), so the
    map, the report and the exports name places alike."""
    if rows:
        for v, pl in zip(rows, PL.load().nearest([v["lat"] for v in rows], [v["lon"] for v in rows]), strict=True):
            v["place"] = pl
    return rows


def _clean_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if not any(s in k.lower() for s in SENSITIVE_KEYS)}


def _liaison_evidence(e: dict[str, Any], kinds: dict[str, str]) -> dict[str, Any]:
    out = dict(e)
    k = kinds.get(str(e.get("source_id")))
    if identity_withheld(k):  # unknown sources are withheld too (fail closed)
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
