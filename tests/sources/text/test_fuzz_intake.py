"""Fuzz: the text intake (Telegram export, RSS, Atom, report JSONL, CSV of headlines) on mutated real samples.

Input records: a Telegram message (an item of ``messages``, or a broken one the
reader resynchronised over), a feed entry, a non-blank JSONL line, a CSV record
after the header.  Each reader fills ``counts`` (``read``, ``skipped``); the tests
check ``read`` against an independent count where one exists, and that accepted
records + records named in errors + skipped (service messages, captionless media)
== read.  Samples and their licence: data/SOURCE.md.
"""

from __future__ import annotations

import csv
import io
import json
import re
from importlib.resources import files
from pathlib import Path

from hypothesis import given

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.errors import RecordProblem
from trucewatch.sources.text.intake import (
    MAX_YEAR,
    MIN_YEAR,
    Record,
    read_feed,
    read_headlines_csv,
    read_jsonl,
    read_telegram,
)

DATA = Path(__file__).parent / "data"
TELEGRAM = (DATA / "telegram_result.json").read_bytes()
RSS = (DATA / "feed.rss").read_bytes()
ATOM = (DATA / "feed.atom").read_bytes()
HEADLINES = (DATA / "viina_headlines_slice.csv").read_bytes()
REPORTS = b"".join((files("trucewatch") / "data/eval/reports/reports.jsonl").read_bytes().splitlines(True)[:25])


def _key(e: RecordProblem) -> str:
    """The record an error names, without the id detail: "message 5", "entry 2", "line 7"."""
    return e.record.split(" (", 1)[0]


def _check(recs: list[Record], errs: list[RecordProblem], counts: dict[str, int], n_in: int | None,
           file_level: tuple[str, ...] = ("file",)) -> None:
    for e in errs:
        assert e.record and e.field and e.message
    for r in recs:
        assert MIN_YEAR <= r.published_at.year <= MAX_YEAR
        assert r.text.strip() and "\x00" not in r.text
        assert not re.search(r"[\x00-\x1f\x7f]", r.id + r.source)
    per_record = {_key(e) for e in errs if _key(e) not in file_level}
    if n_in is not None:
        assert counts["read"] == n_in, (counts, n_in)
    assert len(recs) + len(per_record) + counts["skipped"] == counts["read"], (len(recs), sorted(per_record), counts)


def _run(reader, path: Path, data: bytes) -> tuple[list[Record], list[RecordProblem], dict[str, int]]:
    path.write_bytes(data)
    counts: dict[str, int] = {}
    with bounded(10):
        recs, errs = reader(path, counts=counts)
    return recs, errs, counts


def test_samples_read_cleanly(tmp_path: Path) -> None:
    for reader, name, data, n in ((read_telegram, "result.json", TELEGRAM, 14), (read_feed, "f.rss", RSS, 10),
                                  (read_feed, "f.atom", ATOM, 8), (read_jsonl, "r.jsonl", REPORTS, 25),
                                  (read_headlines_csv, "h.csv", HEADLINES, 40)):
        recs, errs, counts = _run(reader, tmp_path / name, data)
        assert len(recs) == n and not errs, (name, errs[:3])
        _check(recs, errs, counts, None)


@FUZZ
@given(data=mutated(TELEGRAM))
def test_fuzz_telegram(tmp_path_factory, data: bytes) -> None:
    recs, errs, counts = _run(read_telegram, tmp_path_factory.mktemp("fz") / "result.json", data)
    try:
        doc = json.loads(data.decode("utf-8", "replace"), strict=False)
        n_in = len(doc["messages"]) if isinstance(doc, dict) and isinstance(doc.get("messages"), list) else None
    except json.JSONDecodeError:
        n_in = None  # broken JSON: the reader's own resynchronisation decides what a message is
    _check(recs, errs, counts, n_in)


@FUZZ
@given(data=mutated(RSS))
def test_fuzz_rss(tmp_path_factory, data: bytes) -> None:
    recs, errs, counts = _run(read_feed, tmp_path_factory.mktemp("fz") / "feed.rss", data)
    _check(recs, errs, counts, None)


@FUZZ
@given(data=mutated(ATOM))
def test_fuzz_atom(tmp_path_factory, data: bytes) -> None:
    recs, errs, counts = _run(read_feed, tmp_path_factory.mktemp("fz") / "feed.atom", data)
    _check(recs, errs, counts, None)


@FUZZ
@given(data=mutated(REPORTS))
def test_fuzz_report_jsonl(tmp_path_factory, data: bytes) -> None:
    recs, errs, counts = _run(read_jsonl, tmp_path_factory.mktemp("fz") / "reports.jsonl", data)
    _check(recs, errs, counts, sum(1 for ln in data.split(b"\n") if ln.strip()))


def _csv_records(data: bytes) -> int:
    reader = csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape").removeprefix("\ufeff"), newline=""))
    n = 0
    while True:
        start = reader.line_num
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            n += 1
            if reader.line_num == start:
                break
            continue
        n += bool(row)
    return max(n - 1, 0)


@FUZZ
@given(data=mutated(HEADLINES, head=1))
def test_fuzz_headlines_csv(tmp_path_factory, data: bytes) -> None:
    recs, errs, counts = _run(read_headlines_csv, tmp_path_factory.mktemp("fz") / "headlines.csv", data)
    header_lost = any(e.record == "line 1" for e in errs)
    _check(recs, errs, counts, 0 if header_lost else _csv_records(data), file_level=("line 1",))


def test_hostile_fields_are_named(tmp_path: Path) -> None:
    doc = json.loads(TELEGRAM)
    msgs = [m for m in doc["messages"] if m["type"] == "message" and isinstance(m["text"], str)]
    msgs[0]["text"] = "Обстріл\x00 Костянтинівки"
    msgs[1]["forwarded_from"] = "chan\x1bnel"
    msgs[2]["date_unixtime"] = "99999999999999999999"
    p = tmp_path / "result.json"
    p.write_text(json.dumps(doc, ensure_ascii=False).replace("Test channel", "Test\x01 channel", 1), encoding="utf-8")
    recs, errs = read_telegram(p)
    assert [(e.field) for e in errs] == ["text", "forwarded_from", "date"]
    assert len(recs) == 11
    rss = RSS.replace(b"+0200", b"+0200 99999", 1).replace(b"Sat, 01 Mar 2025", b"Fri, 31 Dec 9999", 1)
    recs, errs, _ = _run(read_feed, tmp_path / "f.rss", rss.replace(b"2025", b"0000", 1))
    assert errs and all(e.field == "published" for e in errs) and len(recs) + len(errs) == 10
