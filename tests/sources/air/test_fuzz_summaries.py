"""Fuzz: air-defence summaries (posts in the text intake's JSONL) on mutated real-style summaries.

Input record: a non-blank JSONL line (a post).  Reading: posts + errors naming a
line == lines.  Processing: every post becomes a summary or is skipped as "not a
summary" (no counts), and nothing raises: a post whose dates or numbers are
absurd is an error naming the post, never a traceback.  The base is the first 15
posts of the project's air evaluation set, written in the intake's layout
(``published_at``).
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.sources.air.intake import process_posts, read_posts
from trucewatch.sources.air.summary import parse_summary


def _base() -> bytes:
    out = []
    for ln in (files("trucewatch") / "data/eval/air_summaries/summaries.jsonl").read_text("utf-8").splitlines()[:15]:
        d = json.loads(ln)
        out.append(json.dumps({"id": d["id"], "source": "airforce", "published_at": d["published"], "text": d["text"],
                               "lang": d.get("language")}, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode()


BASE = _base()
TEXTS = [json.loads(ln)["text"] for ln in BASE.decode().splitlines()]


def _run(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    with bounded(10):
        posts, errors = read_posts(path)
        sums, obs, errs = process_posts(posts)
    n_lines = sum(1 for ln in data.split(b"\n") if ln.strip())
    assert len(posts) + len({e.record.split(" (", 1)[0] for e in errors}) == n_lines, (len(posts), errors, n_lines)
    assert len(sums) <= len(posts)
    ids = {p.id for p in posts}
    for e in errors + errs:
        assert e.record and e.field and e.message
    for e in errs:
        assert e.record in ids
    for o in obs:
        assert o.attributes["summary_id"] in ids


def test_base_reads_cleanly(tmp_path: Path) -> None:
    p = tmp_path / "s.jsonl"
    p.write_bytes(BASE)
    posts, errors = read_posts(p)
    sums, obs, _ = process_posts(posts)
    assert len(posts) == 15 and not errors and len(sums) == 15 and obs


@settings(FUZZ, max_examples=30)  # summaries are geocoded: about 0.1 s a post
@given(data=mutated(BASE))
def test_fuzz_summaries_file(tmp_path_factory, data: bytes) -> None:
    _run(tmp_path_factory.mktemp("fz") / "summaries.jsonl", data)


@settings(FUZZ, max_examples=30)
@given(i=st.integers(0, len(TEXTS) - 1), data=st.data())
def test_fuzz_summary_text(i: int, data: st.DataObject) -> None:
    raw = data.draw(mutated(TEXTS[i].encode(), sep=b" ")).decode("utf-8", "replace")
    with bounded(10):
        s = parse_summary(raw, summary_id="x")
    for it in s.items:
        for v in (it.launched, it.intercepted, it.lost):
            assert v is None or v >= 0
    assert all(isinstance(p, str) and p for p in s.problems)


def test_absurd_dates_are_named(tmp_path: Path) -> None:
    lines = BASE.decode().splitlines()
    d0, d1 = json.loads(lines[0]), json.loads(lines[1])
    d0["published_at"] = "2099-03-01T07:00:00Z"  # readable: ingest refuses its observations as future ones
    d1["published_at"] = "99999-01-01T00:00:00Z"
    p = tmp_path / "s.jsonl"
    p.write_text("\n".join([json.dumps(d0, ensure_ascii=False), json.dumps(d1, ensure_ascii=False), *lines[2:]]),
                 encoding="utf-8")
    posts, errors = read_posts(p)
    assert [e.field for e in errors] == ["published_at"] and len(posts) == 14
    sums, _obs, errs = process_posts(posts)
    assert len(sums) == 14 and all(e.record != d0["id"] or "intercepted" in e.field for e in errs)
