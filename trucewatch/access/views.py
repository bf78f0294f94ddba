"""What each role sees of a finding or an observation: visibility and redaction.

Visibility is decided here and handed to the store as data
(``trucewatch.store.views.Visibility``), where it becomes part of the SQL, so a page
never holds rows the caller may not see and counts cannot leak them.  Rows come back as
plain dicts: no per-row model validation on the hot path.  The API, the daily report and
the mechanism's reports all read findings through :class:`Views`.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from trucewatch.access.roles import FULL_ROLES, Principal, Role
from trucewatch.model import Status, from_unix
from trucewatch.places import settlements as PL
from trucewatch.sources.registry import identity_withheld, withheld_attributes
from trucewatch.store import Store
from trucewatch.store.views import ViolationFilter, ViolationReads, Visibility

__all__ = [
    "CONCERN_KEYS",
    "POST_KEYS",
    "SENSITIVE_KEYS",
    "Views",
    "ViolationFilter",
    "concerns",
    "may_alert",
    "observation_dict",
    "with_places",
]

#: The publication rule's defaults (``ServiceConfig`` carries a deployment's own): the public
#: sees a finding in one of these statuses a day after it reached one.
DEFAULT_PUBLIC_STATUSES = [Status.VERIFIED.value, Status.NOTIFIED.value, Status.CONTESTED.value,
                           Status.CONFIRMED.value]
DEFAULT_PUBLIC_DELAY_S = 86_400.0

#: Attribute keys that could place a sensor or name a monitor; never shown outside analysts.
SENSITIVE_KEYS = ("sensor", "monitor", "team", "station", "operator", "flight_id", "source")
#: A post's own words and where it was posted: withheld with the source's identity.
POST_KEYS = ("text", "url", "channel")
#: Keys a liaison may use to name the party a finding concerns besides the attributed one.
CONCERN_KEYS = ("victim_party", "target_party")


def _j(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


def concerns(v: dict[str, Any], party: str) -> bool:
    attrs = v.get("attributes") or {}
    return v.get("party") == party or any(attrs.get(k) == party for k in CONCERN_KEYS)


class Views:
    def __init__(self, store: Store, public_statuses: list[str], public_delay_s: float) -> None:
        self.store = store
        self.reads = ViolationReads(store)
        self.public_statuses = list(public_statuses)
        self.public_delay_s = public_delay_s
        self._kinds: dict[str, str] = {}
        self._kinds_at = 0.0
        self._lock = threading.Lock()

    @classmethod
    def with_rule(cls, store: Store, config: Any = None) -> Views:
        """Views with a deployment's publication rule (``config``: anything with ``public_statuses``
        and ``public_delay_s``, e.g. the service's config; None: the defaults above)."""
        if config is None:
            return cls(store, list(DEFAULT_PUBLIC_STATUSES), DEFAULT_PUBLIC_DELAY_S)
        return cls(store, list(config.public_statuses), config.public_delay_s)

    # ------------------------------------------------------------- visibility
    def visibility(self, p: Principal, now: float) -> Visibility:
        """Which findings ``p`` may see at ``now``."""
        if p.role in FULL_ROLES:
            return Visibility("all")
        if p.role == Role.LIAISON:
            return Visibility("party", party=p.party, concern_keys=CONCERN_KEYS)
        if p.role == Role.PUBLIC:
            return Visibility("published", statuses=tuple(self.public_statuses), cutoff=now - self.public_delay_s)
        return Visibility("none")  # monitors see no findings

    def query(self, p: Principal, f: ViolationFilter, now: float | None = None) -> list[dict[str, Any]]:
        rows = [self.render(p, _row(r)) for r in self._select(p, f, now)]
        return with_places(rows)

    def query_json(self, p: Principal, f: ViolationFilter, now: float | None = None) -> str:
        """The same as ``json.dumps(query(...), separators=(",", ":"))``, faster for
        unredacted views on SQLite: one parametrized SQL string on the driver's
        cursor (no SQLAlchemy statement building, compiling or Row objects), and
        the stored JSON columns copied into the answer as they are, never parsed
        and serialized again (the hot path of map clients)."""
        if p.role not in FULL_ROLES or not self.reads.has_fast_path:
            return json.dumps(self.query(p, f, now), separators=(",", ":"))
        rows = self.reads.fast_rows(f)
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
        now = time.time() if now is None else now
        return self.reads.rows(self.visibility(p, now), f)

    def statement(self, p: Principal, f: ViolationFilter, now: float | None = None) -> Any:
        """The store's SELECT behind ``query`` (visibility, filters, page), e.g. to read its SQL."""
        now = time.time() if now is None else now
        return self.reads.statement(self.visibility(p, now), f)

    def get(self, p: Principal, violation_id: str, now: float | None = None) -> dict[str, Any] | None:
        """The violation as ``p`` sees it, or None when it is outside ``p``'s view."""
        now = time.time() if now is None else now
        r = self.reads.get(violation_id, self.visibility(p, now))
        return None if r is None else with_places([self.render(p, _row(r))])[0]

    def raw(self, violation_id: str) -> dict[str, Any] | None:
        r = self.reads.get(violation_id)
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
        if p.role in FULL_ROLES:
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
        if p.role in FULL_ROLES:
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


def may_alert(p: Principal, v: dict[str, Any]) -> bool:
    """Whether ``p`` is told (SSE, webhook) the moment ``v`` is verified."""
    if p.role in FULL_ROLES:
        return True
    if p.role == Role.LIAISON and p.party:
        return concerns(v, p.party)
    return False  # the public learns of findings after the publication delay; monitors submit only
