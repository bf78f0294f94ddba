"""Reads of findings (violations) for one reader's view: filters, a page, and the reader's
visibility as part of the SQL, so a page never holds rows the caller may not see and
counts cannot leak them.

Who sees what is decided in ``trucewatch.access`` and handed here as data
(:class:`Visibility`); this module only translates it into SQL.  The dialect branches
(SQLite's R*Tree and a hand-written fast path; PostGIS's bounding box) live here and
nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Integer, Text, and_, column, or_, select, text, type_coerce

from trucewatch.store import schema as S
from trucewatch.store.store import Store

V = S.violations


@dataclass
class ViolationFilter:
    """The filters and page of a findings query (API parameters, report windows)."""

    t_from: float | None = None
    t_to: float | None = None
    bbox: tuple[float, float, float, float] | None = None
    rule: str | None = None
    party: str | None = None
    status: list[str] | None = None
    min_confidence: float | None = None
    limit: int = 500
    offset: int = 0


@dataclass(frozen=True)
class Visibility:
    """Which findings a reader may see, as data.

    ``all``: every finding.  ``party``: findings attributed to ``party`` or naming it under
    one of ``concern_keys`` in their attributes.  ``published``: findings whose status is in
    ``statuses`` and that reached one of them at or before ``cutoff``.  ``none``: nothing.
    """

    kind: Literal["all", "party", "published", "none"]
    party: str | None = None
    concern_keys: tuple[str, ...] = ()
    statuses: tuple[str, ...] = field(default_factory=tuple)
    cutoff: float = 0.0


def _condition(vis: Visibility) -> Any:
    """SQL condition for ``vis`` (None: no restriction)."""
    if vis.kind == "all":
        return None
    if vis.kind == "party":
        conds = [V.c.party == vis.party]
        conds += [V.c.attributes[k].as_string() == vis.party for k in vis.concern_keys]
        return or_(*conds)
    if vis.kind == "published":
        published = (select(S.transitions.c.violation_id)
                     .where(S.transitions.c.to_status.in_(list(vis.statuses)), S.transitions.c.at <= vis.cutoff))
        return and_(V.c.status.in_(list(vis.statuses)), V.c.id.in_(published))
    return text("0 = 1")


_JSON_COLUMNS = {"location", "origin", "evidence", "attributes"}
#: JSON columns come back as their stored text (no per-row result processing): the caller
#: parses them, or the fast path copies them into its answer as they are.
_TEXT_COLUMNS = [type_coerce(col, Text).label(col.name) if col.name in _JSON_COLUMNS else col for col in V.c]

#: Columns of :meth:`ViolationReads.fast_rows`, in order.
FAST_COLUMNS = ("id", "event_id", "rule", "party", "confidence", "status", "t", "lat", "lon", "location", "origin",
                "evidence", "explanation", "attributes", "updated_at")
_RTREE_SQL = ("seq IN (SELECT id FROM viol_rtree WHERE max_lon >= ? AND min_lon <= ? "
              "AND max_lat >= ? AND min_lat <= ?)")


class ViolationReads:
    """Findings of one store as a reader's view asks for them."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def has_fast_path(self) -> bool:
        """Whether :meth:`fast_rows` is available (SQLite: one driver-level statement)."""
        return self.store.dialect == "sqlite"

    def statement(self, vis: Visibility, f: ViolationFilter) -> Any:
        """The SELECT behind :meth:`rows` (visibility, filters, page; JSON columns as text)."""
        q = select(V)
        cond = _condition(vis)
        if cond is not None:
            q = q.where(cond)
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
        return q.with_only_columns(*_TEXT_COLUMNS)

    def _bbox(self, q: Any, bbox: tuple[float, float, float, float]) -> Any:
        min_lon, min_lat, max_lon, max_lat = bbox
        if self.store.dialect == "sqlite":
            sub: Any = text("SELECT id FROM viol_rtree WHERE max_lon >= :a AND min_lon <= :b "
                       "AND max_lat >= :c AND min_lat <= :d")
            sub = sub.bindparams(a=min_lon, b=max_lon, c=min_lat, d=max_lat).columns(column("id", Integer))
            return q.where(V.c.seq.in_(sub))
        # PostgreSQL: the store's filter, ``geom && ST_MakeEnvelope`` on the GiST index
        return self.store._bbox_filter(q, V, "viol_rtree", bbox)

    def rows(self, vis: Visibility, f: ViolationFilter) -> list[dict[str, Any]]:
        """One page of stored rows (JSON columns as their stored text), oldest first."""
        q = self.statement(vis, f)
        with self.store.engine.connect() as c:
            return [r._asdict() for r in c.execute(q).all()]

    def fast_rows(self, f: ViolationFilter) -> list[tuple[Any, ...]]:
        """The unrestricted view's page as tuples of :data:`FAST_COLUMNS` (JSON as stored text).

        SQLite only (:attr:`has_fast_path`): one parametrized SQL string on the driver's
        cursor, no SQLAlchemy statement building, compiling or Row objects (the hot path of
        map clients)."""
        sql, params = _fast_sql(f)
        with self.store.engine.connect() as c:
            cur = c.connection.cursor()
            try:
                return list(cur.execute(sql, params).fetchall())
            finally:
                cur.close()

    def get(self, violation_id: str, vis: Visibility | None = None) -> dict[str, Any] | None:
        """The stored row of one finding (JSON columns decoded), or None when absent or outside ``vis``."""
        q = select(V).where(V.c.id == violation_id)
        cond = None if vis is None else _condition(vis)
        if cond is not None:
            q = q.where(cond)
        with self.store.engine.connect() as c:
            r = c.execute(q).mappings().first()
        return None if r is None else dict(r)


def _fast_sql(f: ViolationFilter) -> tuple[str, tuple[Any, ...]]:
    """SQLite text of :meth:`ViolationReads.rows` for unrestricted views; values only as parameters."""
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
    return f"SELECT {', '.join(FAST_COLUMNS)} FROM violations WHERE seq IN ({page}) ORDER BY t, id", tuple(params)
