"""Reading reports: Telegram Desktop exports, RSS/Atom feeds, the project JSONL,
CSV files of headlines, and monitor patrol reports (structured form or free text).

Everything becomes a :class:`Record` of the documented JSONL layout
``{id, source, published_at, text, lang?, url?}`` (plus ``forwarded_from``,
``source_kind``, ``party`` and ``patrol`` when known).  A record that cannot be
read yields a :class:`~trucewatch.errors.RecordProblem` naming the record and the field; the rest of
the file is still read.  A Telegram export broken in the middle is read message
by message, so one damaged message costs one record, not the file.

Every reader takes an optional ``counts`` dict that it fills with ``read`` (input
records seen: lines, messages, entries, rows) and ``skipped`` (records that are
not reports by design: Telegram service messages, captionless media), so that
records + errors + skipped account for every input record.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from trucewatch._jsonl import BadLine, json_lines
from trucewatch.errors import RecordProblem, TruceWatchError

#: Kinds a text source may declare (trucewatch.model.SourceKind values).
SOURCE_KINDS = ("open_source", "party_statement", "monitor_team")
#: Longer posts are not reports (a pasted book, a binary blob): rejected, named.
MAX_TEXT_CHARS = 100_000
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
#: Control characters (tab and newline included): never part of an identifier or a name.
_ID_CTRL = re.compile(r"[\x00-\x1f\x7f]")
#: Dates a report can carry: before 1970 or after this year is a corrupt field, not a report.
MIN_YEAR, MAX_YEAR = 1970, 2100
MAX_ID_CHARS = 500


@dataclass
class Record:
    id: str
    source: str
    published_at: datetime
    text: str
    lang: str | None = None
    url: str | None = None
    forwarded_from: str | None = None
    source_kind: str | None = None
    party: str | None = None
    patrol: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        d = {"id": self.id, "source": self.source, "published_at": self.published_at.isoformat(),
             "text": self.text, "lang": self.lang, "url": self.url}
        for k in ("forwarded_from", "source_kind", "party", "patrol"):
            if getattr(self, k) is not None:
                d[k] = getattr(self, k)
        return d


def parse_time(value: Any) -> datetime:
    """ISO 8601, RFC 822 or unix seconds -> aware UTC datetime; ValueError otherwise."""
    t = _parse_time(value)
    try:
        year = t.astimezone(UTC).year
    except OverflowError:  # 0001-01-01 with a positive offset, 9999-12-31 with a negative one
        year = t.year
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"{t.isoformat()} is outside {MIN_YEAR}..{MAX_YEAR}")
    return t


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_unix(float(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a date and time, got {str(value)[:60]!r}")
    s = value.strip()
    if re.fullmatch(r"\d{9,11}(\.\d+)?", s):
        return _from_unix(float(s))
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        try:
            t = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise ValueError(f"cannot parse date {s[:60]!r} (expected ISO 8601 or RFC 822)") from None
        if t is None:
            raise ValueError(f"cannot parse date {s[:60]!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _from_unix(v: float) -> datetime:
    try:
        return datetime.fromtimestamp(v, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{v!r} is not a unix time") from None


def check_id(value: Any) -> str:
    """An identifier or name as text, or ValueError: control characters and runaway lengths are corruption."""
    s = str(value)
    if _ID_CTRL.search(s):
        raise ValueError(f"control character in {s[:60]!r}")
    if "\ufffd" in s:
        raise ValueError(f"bytes that are not UTF-8 in {s[:60]!r}")
    if len(s) > MAX_ID_CHARS:
        raise ValueError(f"{len(s)} characters, more than {MAX_ID_CHARS}")
    return s


def check_text(text: Any) -> str:
    """The report text, or ValueError saying why it is not one."""
    if text is None:
        raise ValueError("missing")
    if not isinstance(text, str):
        raise ValueError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"{len(text)} characters exceeds the {MAX_TEXT_CHARS} limit for one report")
    if not text.strip():
        raise ValueError("empty")
    if "\x00" in text:
        raise ValueError("NUL character (binary data?)")
    bad = len(_CTRL.findall(text))
    if bad > max(2, 0.02 * len(text)):
        raise ValueError(f"not readable text ({bad} control or replacement characters: binary data?)")
    letters = sum(ch.isalpha() for ch in text)
    if letters < 3:
        raise ValueError("no words")
    return text


def record_from_dict(d: Any, where: str, default_source: str = "unknown") -> Record:
    """One JSONL object -> Record; raises _RE carrying its RecordProblem."""
    if not isinstance(d, dict):
        raise _RE(where, "record", f"expected a JSON object, got {type(d).__name__}")
    rid = d.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()):
        raise _RE(where, "id", "missing")
    try:
        rid = check_id(rid)
    except ValueError as e:
        raise _RE(where, "id", str(e)) from None
    where = f"{where} (id={rid[:60]})"
    source = d.get("source") or default_source
    if not isinstance(source, str):
        raise _RE(where, "source", f"expected a string, got {type(source).__name__}")
    for fld in ("source", "url", "forwarded_from", "party"):
        v = source if fld == "source" else d.get(fld)
        if v is None:
            continue
        if not isinstance(v, str):
            raise _RE(where, fld, f"expected a string, got {type(v).__name__}")
        try:
            check_id(v)
        except ValueError as e:
            raise _RE(where, fld, str(e)) from None
    try:
        pub = parse_time(d.get("published_at"))
    except ValueError as e:
        raise _RE(where, "published_at", str(e)) from None
    patrol = d.get("patrol")
    text = d.get("text")
    if patrol is not None:
        if not isinstance(patrol, dict):
            raise _RE(where, "patrol", "expected an object")
        text = text if isinstance(text, str) and text.strip() else patrol_text(patrol, where)
    try:
        text = check_text(text)
    except ValueError as e:
        raise _RE(where, "text", str(e)) from None
    lang = d.get("lang")
    if lang is not None and lang not in ("en", "uk", "ru"):
        raise _RE(where, "lang", f"unsupported language {lang!r} (en, uk, ru)")
    kind = d.get("source_kind")
    if kind is not None and kind not in SOURCE_KINDS:
        raise _RE(where, "source_kind", f"expected one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    party = d.get("party")
    if party is not None and (not isinstance(party, str) or not party.strip()):
        raise _RE(where, "party", f"expected a party code such as UA or RU, got {party!r}")
    return Record(id=rid, source=source, published_at=pub, text=text, lang=lang, url=d.get("url"),
                  forwarded_from=d.get("forwarded_from"), source_kind=d.get("source_kind"),
                  party=d.get("party"), patrol=patrol)


class _RE(TruceWatchError):
    """One record's problem, raised inside a reader and caught by its loop (never escapes a reader)."""

    def __init__(self, record: str, fld: str, msg: str) -> None:
        super().__init__(msg)
        self.err = RecordProblem(record, fld, msg)


# ---------------------------------------------------------------------------
# monitor patrol reports, structured form
PATROL_WHAT = {
    "explosion": "explosion (ceasefire violation)", "explosions": "explosion (ceasefire violation)", "shelling": "artillery shelling",
    "artillery": "artillery shelling", "mortar": "mortar shelling", "mlrs": "MLRS shelling",
    "small_arms": "small-arms fire", "drone": "drone strike", "uav": "drone strike", "missile": "missile strike",
    "glide_bomb": "glide bomb air strike", "air_strike": "air strike", "assault": "ground assault",
    "fire": "fire", "denied": "monitors denied passage", "jamming": "monitors' UAV jammed",
    "interference": "interference with monitors",
}
DISTANCE_BANDS_KM = {"0-2": (0, 2), "2-5": (2, 5), "5-10": (5, 10), "10-20": (10, 20), ">20": (20, 40)}
COMPASS = {"N": 0, "NNE": 22.5, "NE": 45, "ENE": 67.5, "E": 90, "ESE": 112.5, "SE": 135, "SSE": 157.5, "S": 180,
           "SSW": 202.5, "SW": 225, "WSW": 247.5, "W": 270, "WNW": 292.5, "NW": 315, "NNW": 337.5}


def patrol_text(p: dict[str, Any], where: str) -> str:
    """A structured patrol observation written as the sentence a monitor would write.

    Fields: ``mode`` (heard/seen), ``what`` (see PATROL_WHAT), ``count``,
    ``direction`` (compass point or degrees), ``distance_band`` (0-2, 2-5, 5-10,
    10-20, >20 km), ``place`` (where the team was), ``region``.  The direction
    and distance become a relative phrase the extractor resolves.
    """
    what = p.get("what")
    if what not in PATROL_WHAT:
        raise _RE(where, "patrol.what", f"unknown {what!r}; one of {', '.join(sorted(PATROL_WHAT))}")
    place = p.get("place")
    if not isinstance(place, str) or not place.strip():
        raise _RE(where, "patrol.place", "missing")
    count = p.get("count", 1)
    if not isinstance(count, int) or count < 0:
        raise _RE(where, "patrol.count", f"expected a non-negative integer, got {count!r}")
    mode = p.get("mode", "heard")
    if mode not in ("heard", "seen"):
        raise _RE(where, "patrol.mode", f"expected heard or seen, got {mode!r}")
    loc = f"at {place}"
    band = p.get("distance_band")
    direction = p.get("direction")
    if band is not None:
        if band not in DISTANCE_BANDS_KM:
            raise _RE(where, "patrol.distance_band", f"unknown {band!r}; one of {', '.join(DISTANCE_BANDS_KM)}")
        lo, hi = DISTANCE_BANDS_KM[band]
        mid = (lo + hi) / 2
        if direction is not None:
            deg = COMPASS.get(str(direction).upper()) if not isinstance(direction, (int, float)) else float(direction)
            if deg is None:
                raise _RE(where, "patrol.direction", f"expected a compass point or degrees, got {direction!r}")
            names = ["north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"]
            loc = f"{mid:g} km {names[int(((deg % 360) + 22.5) // 45) % 8]} of {place}"
        else:
            loc = f"{mid:g} km from {place}"
    region = p.get("region")
    reg = f", {region}" if isinstance(region, str) and region else ""
    when = p.get("at")
    at = ""
    if when:
        try:
            t = parse_time(when)
        except ValueError as e:
            raise _RE(where, "patrol.at", str(e)) from None
        at = f" at {t.astimezone(_kyiv()).strftime('%H:%M')}"
    return f"The patrol {mode} {count} {PATROL_WHAT[what]}{at} {loc}{reg}. {p.get('note', '')}".strip()


def _kyiv():
    return ZoneInfo("Europe/Kyiv")


# ---------------------------------------------------------------------------
# formats
def _count(counts: dict[str, int] | None, read: int, skipped: int = 0) -> None:
    if counts is not None:
        counts["read"] = counts.get("read", 0) + read
        counts["skipped"] = counts.get("skipped", 0) + skipped


def read_jsonl(path: Path | str, default_source: str | None = None,
               counts: dict[str, int] | None = None) -> tuple[list[Record], list[RecordProblem]]:
    recs: list[Record] = []
    errs: list[RecordProblem] = []
    src = default_source or Path(path).stem
    n_read = 0
    with open(path, "rb") as f:
        for n, d in json_lines(f):
            n_read += 1
            where = f"line {n}"
            if isinstance(d, BadLine):
                e = d.error
                why = (f"not UTF-8 ({e.reason} at byte {e.start})" if isinstance(e, UnicodeDecodeError)
                       else f"broken JSON: {e.msg} at column {e.colno}")
                errs.append(RecordProblem(where, "record", why))
                continue
            try:
                recs.append(record_from_dict(d, where, src))
            except _RE as e:
                errs.append(e.err)
    _count(counts, n_read)
    return recs, errs


def _tg_text(t: Any) -> str:
    """Telegram's ``text``: a string or a list of strings and entity objects."""
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, dict) else "" for p in t)
    raise ValueError(f"expected a string or a list of entities, got {type(t).__name__}")


def _iter_tg_messages(raw: str) -> tuple[dict[str, Any], list[tuple[int, Any]], list[RecordProblem]]:
    """Header fields and the messages of a Telegram export, tolerating broken messages."""
    try:
        doc = json.loads(raw, strict=False)  # a raw control character in a string is judged by the field checks
        if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
            raise _RE("file", "messages", "not a Telegram export (no 'messages' list)")
        return doc, list(enumerate(doc["messages"], 1)), []
    except (json.JSONDecodeError, RecursionError, ValueError):
        pass  # read message by message below
    errs: list[RecordProblem] = []
    head: dict[str, Any] = {}
    for k in ("name", "type", "id"):
        m = re.search(rf'"{k}"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)', raw[:2000])
        if m:
            try:
                head[k] = json.loads(m.group(1), strict=False)
            except (json.JSONDecodeError, ValueError):
                pass  # a damaged header field: the channel is then named after the file
    m = re.search(r'"messages"\s*:\s*\[', raw)
    if not m:
        raise _RE("file", "messages", "not a Telegram export (no 'messages' list) and not valid JSON")
    dec = json.JSONDecoder(strict=False)
    pos = m.end()
    out: list[tuple[int, Any]] = []
    n = 0
    start_rx = re.compile(r'\{\s*"id"\s*:')
    while True:
        while pos < len(raw) and raw[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(raw) or raw[pos] == "]":
            break
        n += 1
        try:
            try:
                obj, end = dec.raw_decode(raw, pos)
            except (RecursionError, ValueError) as exc:
                if isinstance(exc, json.JSONDecodeError):
                    raise
                raise json.JSONDecodeError("nested too deeply" if isinstance(exc, RecursionError)
                                           else "integer with too many digits", raw, pos) from None
            out.append((n, obj))
            pos = end
        except json.JSONDecodeError as e:
            line = raw.count("\n", 0, e.pos) + 1
            nxt = start_rx.search(raw, pos + 1)
            mid = re.search(r'"id"\s*:\s*(-?\d+)', raw[pos:pos + 200])
            ident = f" (id={mid.group(1)})" if mid else ""
            errs.append(RecordProblem(f"message {n}{ident}", "record", f"broken JSON at line {line}: {e.msg}"))
            if not nxt:
                break
            pos = nxt.start()
    return head, out, errs


def read_telegram(path: Path | str, counts: dict[str, int] | None = None) -> tuple[list[Record], list[RecordProblem]]:
    raw = Path(path).read_bytes().decode("utf-8", errors="replace")
    try:
        head, msgs, errs = _iter_tg_messages(raw)
    except _RE as e:
        _count(counts, 0)
        return [], [e.err]
    n_broken = len(errs)
    skipped = 0
    channel = _ID_CTRL.sub("", str(head.get("name") or ""))[:MAX_ID_CHARS] or Path(path).parent.name or "telegram"
    chan_id = head.get("id")
    if chan_id is not None and (isinstance(chan_id, (dict, list, bool)) or _ID_CTRL.search(str(chan_id))
                                or len(str(chan_id)) > MAX_ID_CHARS):
        errs.append(RecordProblem("file", "id", f"{str(chan_id)[:60]!r} is not a channel id; channel named {channel!r}"))
        chan_id = None
    source = f"telegram:{chan_id}" if chan_id is not None else f"telegram:{channel}"
    recs: list[Record] = []
    for n, m in msgs:
        where = f"message {n}"
        if not isinstance(m, dict):
            errs.append(RecordProblem(where, "record", "expected an object"))
            continue
        if m.get("type", "message") != "message":
            skipped += 1
            continue  # service messages (pins, joins) are not reports
        mid = m.get("id")
        where = f"message {n} (id={str(mid)[:60]!r})" if isinstance(mid, str) else f"message {n} (id={mid})"
        if mid is None:
            errs.append(RecordProblem(where, "id", "missing"))
            continue
        if isinstance(mid, (dict, list, bool, float)):
            errs.append(RecordProblem(f"message {n}", "id", f"expected a message number, got {type(mid).__name__}"))
            continue
        try:
            check_id(mid)
        except ValueError as e:
            errs.append(RecordProblem(f"message {n}", "id", str(e)))
            continue
        try:
            text = _tg_text(m.get("text", ""))
        except ValueError as e:
            errs.append(RecordProblem(where, "text", str(e)))
            continue
        if not text.strip() and (m.get("photo") or m.get("file") or m.get("media_type")):
            skipped += 1
            continue  # media without a caption: nothing to read, not an error
        try:
            text = check_text(text)
        except ValueError as e:
            errs.append(RecordProblem(where, "text", str(e)))
            continue
        try:
            if "date_unixtime" in m:
                pub = parse_time(int(m["date_unixtime"]) if not isinstance(m["date_unixtime"], float)
                                 else m["date_unixtime"])
            else:
                pub = parse_time(m.get("date"))
                if pub.tzinfo is UTC and isinstance(m.get("date"), str) and "+" not in m["date"] \
                        and not m["date"].endswith("Z"):
                    # Telegram Desktop writes local time without an offset; the export is made in Kyiv time
                    pub = pub.replace(tzinfo=_kyiv()).astimezone(UTC)
        except (ValueError, TypeError, OverflowError) as e:
            errs.append(RecordProblem(where, "date", str(e)[:200]))
            continue
        fwd = m.get("forwarded_from")
        if fwd:
            try:
                check_id(fwd)
            except ValueError as e:
                errs.append(RecordProblem(where, "forwarded_from", str(e)))
                continue
        recs.append(Record(id=f"{source}/{mid}", source=source, published_at=pub, text=text,
                           forwarded_from=str(fwd) if fwd else None, source_kind=None,
                           url=f"https://t.me/{head['name']}/{mid}" if isinstance(head.get("name"), str)
                           and re.fullmatch(r"[A-Za-z0-9_]{5,}", head["name"]) else None))
    _count(counts, len(msgs) + n_broken, skipped)
    return recs, errs


def read_feed(path: Path | str, counts: dict[str, int] | None = None) -> tuple[list[Record], list[RecordProblem]]:
    """RSS 0.9x/1.0/2.0 or Atom via feedparser; each entry one record."""
    # lazy: feedparser loads only for RSS/Atom feeds
    import feedparser

    data = Path(path).read_bytes()
    fp = feedparser.parse(data)
    errs: list[RecordProblem] = []
    _count(counts, len(fp.entries))
    if fp.bozo and not fp.entries:
        return [], [RecordProblem("file", "feed", f"not a readable feed: {str(fp.get('bozo_exception'))[:200]}")]
    title = _ID_CTRL.sub("", str(fp.feed.get("title") or ""))[:200] or Path(path).stem
    link = _ID_CTRL.sub("", str(fp.feed.get("link") or ""))
    host = re.sub(r"^https?://(www\.)?", "", link).split("/")[0] if link else ""
    source = f"feed:{host or re.sub(r'[^A-Za-z0-9_.-]+', '_', title)[:80]}"
    recs: list[Record] = []
    for n, e in enumerate(fp.entries, 1):
        rid = e.get("id") or e.get("link") or e.get("title")
        where = f"entry {n}" + (f" (id={str(rid)[:80]!r})" if rid else "")
        if not rid:
            errs.append(RecordProblem(where, "id", "entry has no guid, link or title"))
            continue
        try:
            check_id(rid)
        except ValueError as ex:
            errs.append(RecordProblem(f"entry {n}", "id", str(ex)))
            continue
        raw_date = e.get("published") or e.get("updated") or e.get("dc_date")
        parsed = e.get("published_parsed") or e.get("updated_parsed")
        try:
            if parsed:
                y, mo, d, hh, mm, ss = parsed[:6]  # a time.struct_time in UTC
                pub = parse_time(datetime(y, mo, d, hh, mm, ss, tzinfo=UTC))
            else:
                pub = parse_time(raw_date)
        except (ValueError, TypeError, OverflowError) as ex:
            errs.append(RecordProblem(where, "published", "missing" if raw_date is None and not parsed
                                    else f"{str(raw_date)[:60]!r}: {ex}"))
            continue
        text = " ".join(x for x in (e.get("title"), _strip_html(e.get("summary") or "")) if x)
        try:
            text = check_text(text)
        except ValueError as ex:
            errs.append(RecordProblem(where, "text", str(ex)))
            continue
        url = e.get("link")
        recs.append(Record(id=f"{source}/{rid}", source=source, published_at=pub, text=text,
                           url=url if isinstance(url, str) and not _ID_CTRL.search(url) else None,
                           lang=(fp.feed.get("language") or "")[:2] or None if (fp.feed.get("language") or "")[:2]
                           in ("en", "uk", "ru") else None))
    return recs, errs


def _strip_html(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", s)).strip()


#: Header names (lower case) of the date and the text column of a CSV of headlines, first match wins.
CSV_DATE_COLUMNS = ("published_at", "published", "datetime", "date", "time", "timestamp", "pubdate")
CSV_TEXT_COLUMNS = ("text", "headline", "title", "message", "body")


def _csv_columns(header: Sequence[str]) -> tuple[str | None, str | None]:
    low = {h.strip().lower(): h for h in header if h}
    date = next((low[c] for c in CSV_DATE_COLUMNS if c in low), None)
    text = next((low[c] for c in CSV_TEXT_COLUMNS if c in low), None)
    return date, text


def read_headlines_csv(path: Path | str, counts: dict[str, int] | None = None) -> tuple[list[Record], list[RecordProblem]]:
    """A CSV of headlines: one row one report, from a date column and a text column (names in
    CSV_DATE_COLUMNS / CSV_TEXT_COLUMNS); optional ``id``, ``source``, ``url``/``link`` and ``lang``.

    Place columns (lat/lon, place names) are ignored on purpose: in the CSVs seen they are machine-made
    and often wrong, so the text is geocoded like any other report.  Without an ``id`` column a row's id
    is a hash of its date and text, so reading a file again gives the same ids.
    """
    p = Path(path)
    # surrogateescape keeps a byte that is not UTF-8 visible, so the field holding it is named
    text_all = p.read_bytes().decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(text_all, newline=""))
    try:
        header = reader.fieldnames or []
    except csv.Error as e:
        _count(counts, 0)
        return [], [RecordProblem("line 1", "header", f"not CSV ({e})")]
    date_col, text_col = _csv_columns(header)
    if date_col is None or text_col is None:
        _count(counts, 0)
        missing = " and ".join(w for w, c in (("date", date_col), ("text", text_col)) if c is None)
        return [], [RecordProblem("line 1", "header", f"no {missing} column (date: {', '.join(CSV_DATE_COLUMNS)}; "
                                                    f"text: {', '.join(CSV_TEXT_COLUMNS)})")]
    low = {h.strip().lower(): h for h in header if h}
    default_source = f"csv:{p.stem}"
    recs: list[Record] = []
    errs: list[RecordProblem] = []
    n_read = 0
    while True:
        start = reader.reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            n_read += 1
            errs.append(RecordProblem(f"line {reader.reader.line_num}", "record", f"not a CSV record ({e})"))
            if reader.reader.line_num == start:
                break
            continue
        n_read += 1
        where = f"line {reader.line_num}"
        bad = next((k for k, v in row.items() if isinstance(v, str) and re.search("[\udc80-\udcff]", v)), None)
        if bad is not None:
            errs.append(RecordProblem(where, str(bad or "record"), "bytes that are not UTF-8"))
            continue
        if None in row:
            errs.append(RecordProblem(where, "record", f"{len(header) + len(row[None])} fields, the header has {len(header)}"))
            continue
        d: dict[str, Any] = {"published_at": row.get(date_col), "text": row.get(text_col)}
        for key, cols in (("id", ("id",)), ("source", ("source",)), ("url", ("url", "link")), ("lang", ("lang",))):
            col = next((low[c] for c in cols if c in low), None)
            if col is not None and (row.get(col) or "").strip():
                d[key] = row[col].strip()
        if "id" not in d:
            id_src = f"{d['published_at']}|{d['text']}".encode("utf-8", "surrogatepass")
            d["id"] = hashlib.sha256(id_src).hexdigest()[:16]
        d["source"] = d.get("source") or default_source
        d["id"] = f"{d['source']}/{d['id']}"
        try:
            rec = record_from_dict(d, where, default_source)
        except _RE as e:
            err = e.err
            if err.field in ("published_at", "text"):  # name the CSV's own column
                err = dataclasses.replace(err, field=date_col if err.field == "published_at" else text_col)
            errs.append(err)
            continue
        recs.append(rec)
    _count(counts, n_read)
    return recs, errs


def _looks_like_headlines_csv(head: bytes) -> bool:
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    return len(header) >= 2 and None not in _csv_columns(header)


def read_any(path: Path | str, counts: dict[str, int] | None = None) -> tuple[list[Record], list[RecordProblem]]:
    """Pick the reader from the content: Telegram export, feed, JSON array, CSV of headlines, or JSONL."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        return [], [RecordProblem(str(p), "file", f"cannot read: {e.strerror}")]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        return read_feed(p, counts)
    if stripped.startswith(b"{") and (b'"messages"' in head or (b'"name"' in head and b'"type"' in head
                                                                  and b"\n" in stripped[:3])):
        return read_telegram(p, counts)
    if stripped.startswith(b"["):
        try:
            arr = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as e:
            _count(counts, 0)
            return [], [RecordProblem(str(p), "file", f"broken JSON array: {e}")]
        if not isinstance(arr, list):
            _count(counts, 0)
            return [], [RecordProblem(str(p), "file", f"expected a JSON array, got {type(arr).__name__}")]
        recs, errs = [], []
        for n, d in enumerate(arr, 1):
            try:
                recs.append(record_from_dict(d, f"item {n}", p.stem))
            except _RE as e:
                errs.append(e.err)
        _count(counts, len(arr))
        return recs, errs
    if not stripped.startswith(b"{") and _looks_like_headlines_csv(head.removeprefix(b"\xef\xbb\xbf")):
        return read_headlines_csv(p, counts)
    return read_jsonl(p, counts=counts)
