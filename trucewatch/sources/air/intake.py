"""Summary intake: text-report formats in, AIR_SUMMARY observations out.

Accepted inputs (the same shapes the text-report stage reads):
- JSONL, one post per line: ``{"id", "published_at"|"published"|"date", "text"|"message", "source"|"channel"}``
  (the text-report intake's record, or the older names);
- a Telegram Desktop export (``result.json``: ``{"name", "messages": [{"id", "date", "text"}]}``,
  where ``text`` may be a list of strings and entity objects);
- a plain text file: one summary (``published`` from the caller).
Posts that are not air-defence summaries (no launch or interception counts) are
skipped with a note, not an error; a post whose numbers do not add up is kept,
flagged, and reported as an error naming the post and field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.errors import RecordProblem
from trucewatch.geo import haversine_m
from trucewatch.model import (
    MAX_ERROR_M,
    Location,
    Observation,
    ObservationKind,
    Source,
    SourceKind,
    from_unix,
    sha256_hex,
    to_utc,
)
from trucewatch.sources.air.summary import Summary, parse_summary
from trucewatch.sources.text.intake import read_any

#: Where a summary with no geocoded launch area is put: Ukraine's centre, as wide as allowed.
UKRAINE_CENTRE = (48.4, 31.2)


@dataclass
class Post:
    id: str
    published: datetime | None
    text: str
    channel: str = ""


def air_force_source(source_id: str = "airforce:kpszsu") -> Source:
    """Ukraine's Air Force channel (a party's official channel: party UA)."""
    return Source(id=source_id, kind=SourceKind.AIR_DEFENCE, party="UA", name="Air Force of the Armed Forces of Ukraine",
                  reliability=0.85)


def _tg_text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "".join(x if isinstance(x, str) else str(x.get("text", "")) for x in v)
    return ""


def _dt(v: Any) -> datetime | None:
    if v in (None, ""):
        return None
    if isinstance(v, (int, float)):
        return from_unix(v)
    return to_utc(datetime.fromisoformat(str(v).replace("Z", "+00:00")))


def read_posts(path: str | Path, published: datetime | None = None) -> tuple[list[Post], list[RecordProblem]]:
    """Posts from a file.  ``.txt``: one summary.  JSONL: this module's own reader.  Otherwise the
    text-report stage's reader (trucewatch.sources.text.intake.read_any: Telegram export, RSS/Atom)."""
    path = Path(path)
    if _is_jsonl(path):
        # our own reader: it takes the documented ``published`` (and ``published_at``/``date``), which the
        # text-report reader does not
        return _read_posts_own(path, published)
    if path.suffix.lower() != ".txt":
        recs, errs = read_any(path)
        return [Post(r.id, r.published_at, r.text, r.source) for r in recs], errs
    return _read_posts_own(path, published)


def _is_jsonl(path: Path) -> bool:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return True
    if path.suffix.lower() == ".txt":
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(4096).lstrip()
    except OSError:
        return False
    return head.startswith(b"{") and b"\n{" in head and not head.startswith(b'{\n "name"')


_DATE_FIELDS = ("published_at", "published", "date")


def _read_posts_own(path: Path, published: datetime | None) -> tuple[list[Post], list[RecordProblem]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = raw.decode("utf-8", errors="replace")
        line_no = raw[:exc.start].count(b"\n") + 1
        bad: RecordProblem | None = RecordProblem(f"{path.name} line {line_no}", "(encoding)",
                                                  f"not UTF-8 at byte {exc.start}; replaced")
    else:
        bad = None
    posts, errors = _parse_posts_text(path, text, published, raw if bad else None)
    if bad and _looks_jsonl(path, text):
        bad = None  # JSONL: the undecodable lines are named one by one, not accepted with replacement characters
    return posts, ([bad] if bad else []) + errors


def _looks_jsonl(path: Path, text: str) -> bool:
    stripped = text.lstrip()
    return path.suffix == ".jsonl" or (stripped.startswith("{") and "\n{" in stripped
                                       and not stripped.startswith('{\n "name"'))


def _parse_posts_text(path: Path, text: str, published: datetime | None,
                      raw: bytes | None = None) -> tuple[list[Post], list[RecordProblem]]:
    """``raw``: the file's bytes when they are not all UTF-8, so JSONL lines are decoded (and refused) one by one."""
    posts: list[Post] = []
    errors: list[RecordProblem] = []
    stripped = text.lstrip()
    if _looks_jsonl(path, text):
        # a JSONL record ends at \n only (str.splitlines would also split inside a text at U+2028, \x1c...)
        lines: list[str] | list[bytes] = raw.split(b"\n") if raw is not None else text.split("\n")
        for no, d in json_lines(lines):
            rec = f"{path.name} line {no}"
            if isinstance(d, BadLine):
                if isinstance(d.error, UnicodeDecodeError):
                    errors.append(RecordProblem(rec, "(encoding)", f"not UTF-8 at byte {d.error.start} of the line"))
                else:
                    errors.append(RecordProblem(rec, "(line)", f"not JSON: {getattr(d.error, 'msg', d.error)}"))
                continue
            if not isinstance(d, dict):
                errors.append(RecordProblem(rec, "(line)", f"expected a JSON object, got {type(d).__name__}"))
                continue
            if "id" in d:
                rec = f"{path.name} line {no} (id={str(d['id'])[:60]})"
            body = d.get("text")
            body = body if body is not None else d.get("message")
            if not isinstance(body, (str, list)) or not _tg_text(body).strip():
                errors.append(RecordProblem(rec, "text", "missing or empty (a post needs its text)"))
                continue
            fld = next((f for f in _DATE_FIELDS if d.get(f) not in (None, "")), None)
            try:
                pub = _dt(d.get(fld)) if fld else None
            except (ValueError, TypeError, OverflowError, OSError) as exc:
                errors.append(RecordProblem(rec, fld or "published", f"not an ISO 8601 time or unix seconds: "
                                                                    f"{str(d.get(fld))[:40]!r} ({exc})"))
                continue
            if pub is None and published is None:
                errors.append(RecordProblem(rec, "published", "missing: give published (ISO 8601) or --published"))
                continue
            posts.append(Post(str(d.get("id", f"{path.stem}-{no}")), pub or published, _tg_text(body),
                              str(d.get("source", d.get("channel", "")))))
        return posts, errors
    if stripped.startswith("{"):
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [RecordProblem(path.name, "(file)", f"not JSON: {exc.msg}")]
        chan = str(d.get("name", ""))
        for i, m in enumerate(d.get("messages", [])):
            body = _tg_text(m.get("text"))
            if not body.strip():
                continue  # service messages, photos without captions
            try:
                pub = _dt((m.get("date_unixtime") and int(m["date_unixtime"])) or m.get("date"))
            except (ValueError, TypeError) as exc:
                errors.append(RecordProblem(f"{path.name} messages[{i}]", "date", str(exc)))
                continue
            posts.append(Post(f"{chan or path.stem}/{m.get('id', i)}", pub, body, chan))
        return posts, errors
    return [Post(path.stem, published, text)], errors


def summary_observations(s: Summary, source_id: str) -> list[Observation]:
    """One AIR_SUMMARY per weapon type; location = the launch areas (centroid, error covering them)."""
    obs = []
    for k, it in enumerate(s.items):
        areas = [a for a in (it.launch_areas or s.launch_areas) if a.get("lat") is not None]
        if areas:

            la = np.array([a["lat"] for a in areas], float)
            lo = np.array([a["lon"] for a in areas], float)
            er = np.array([a["err_m"] or 50_000.0 for a in areas], float)
            clat, clon = float(la.mean()), float(lo.mean())
            err = float(np.max(haversine_m(clat, clon, la, lo) + er))
        else:
            clat, clon = UKRAINE_CENTRE
            err = MAX_ERROR_M
        err = min(max(err, 1000.0), MAX_ERROR_M)
        t = s.window_to or s.window_from
        if t is None:
            continue
        sigma = (s.window_to - s.window_from).total_seconds() / 2 if s.window_from and s.window_to else 6 * 3600.0
        attrs = {
            "weapon_type": it.weapon_type, "launched": it.launched, "intercepted": it.intercepted, "lost": it.lost,
            "launch_areas": [{"name": a["name"], "id": a.get("id"), "lat": a.get("lat"), "lon": a.get("lon"),
                              "err_m": a.get("err_m")} for a in (it.launch_areas or s.launch_areas)],
            "window_from": s.window_from.isoformat() if s.window_from else None,
            "window_to": s.window_to.isoformat() if s.window_to else None,
            "models": it.models, "includes_decoys": it.includes_decoys, "summary_id": s.id, "language": s.language,
            "total_launched": s.total_launched, "total_intercepted": s.total_intercepted,
            "problems": s.problems, "inconsistent": any("more than" in p or "add up" in p or "exceed" in p for p in s.problems),
        }
        key = f"{source_id}|{s.id}|{it.weapon_type}"
        obs.append(Observation(
            id=f"airsum-{sha256_hex(key.encode())[:24]}", source_id=source_id, kind=ObservationKind.AIR_SUMMARY,
            time=t, time_sigma_s=max(sigma, 0.0), location=Location(lat=clat, lon=clon, err_major_m=err, err_minor_m=err),
            attributes=attrs, payload_hash=sha256_hex(s.text.encode("utf-8"))))
        del k
    return obs


def process_posts(posts: list[Post], source_id: str = "airforce:kpszsu") -> tuple[list[Summary], list[Observation], list[RecordProblem]]:
    """Parse every post; posts without counts are skipped; numbers that do not add up are errors (kept, flagged)."""
    sums, obs, errors = [], [], []
    for p in posts:
        s = parse_summary(p.text, summary_id=p.id, published=p.published)
        if not s.items:
            continue  # not an air-defence summary
        sums.append(s)
        for prob in s.problems:
            fld = prob.split(":", 1)[0]
            errors.append(RecordProblem(p.id, fld, prob.split(":", 1)[1].strip() if ":" in prob else prob))
        if s.window_to is None and s.window_from is None:
            errors.append(RecordProblem(p.id, "published", "no date in the text and none given: no time window"))
            continue
        obs += summary_observations(s, source_id)
    return sums, obs, errors
