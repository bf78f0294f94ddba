"""Intake formats and bad input: a clear per-record error, the rest processed."""

from __future__ import annotations

import json
from pathlib import Path

from trucewatch.sources.text.intake import read_any

GOOD = {"id": "1", "source": "chan", "published_at": "2026-03-12T08:00:00Z", "text": "Обстріл Нікополя вночі."}


def _jsonl(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_jsonl_bad_records(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD, ensure_ascii=False),
        json.dumps({**GOOD, "id": "2", "text": "   "}),
        json.dumps({**GOOD, "id": "3", "text": "\x00\x01\x02\x03\x04\x05binary\x06\x07\x08\x0e\x0f"}),
        json.dumps({**GOOD, "id": "4", "text": "x" * (10 * 1024 * 1024)}),
        '{"id": "5", "source": "chan", "published_at": "2026-03-12T08:00:00Z", "text": "broken',
        json.dumps({**GOOD, "id": "6", "published_at": "12/03/2026 noonish"}),
        json.dumps({**GOOD, "id": "7", "text": "Drone strike on Sumy."}),
    ]
    recs, errs = read_any(_jsonl(tmp_path, lines))
    assert [r.id for r in recs] == ["1", "7"]
    by = {e.record.split(" ")[1]: e for e in errs}
    assert by["2"].field == "text" and "empty" in by["2"].message
    assert by["3"].field == "text" and "binary" in by["3"].message
    assert by["4"].field == "text" and "exceeds" in by["4"].message
    assert by["5"].field == "record" and "broken JSON" in by["5"].message
    assert by["6"].field == "published_at" and "cannot parse date" in by["6"].message
    assert all(str(e).startswith("line ") for e in errs)


def test_telegram_export_with_broken_message(tmp_path: Path) -> None:
    msgs = [
        {"id": 10, "type": "message", "date": "2026-03-12T03:10:00", "date_unixtime": "1773285000",
         "text": ["Вночі ", {"type": "bold", "text": "Шахеди"}, " атакували Одесу."]},
        {"id": 11, "type": "service", "date": "2026-03-12T03:11:00", "action": "pin_message", "text": ""},
        {"id": 12, "type": "message", "date": "2026-03-12T04:00:00", "text": "Обстріл Херсона.",
         "forwarded_from": "Other channel"},
        {"id": 14, "type": "message", "date": "2026-03-12T05:00:00", "text": ""},
    ]
    body = json.dumps({"name": "test_channel", "type": "public_channel", "id": 777, "messages": msgs},
                      ensure_ascii=False, indent=1)
    # damage message 12 in the middle of the file
    body = body.replace('"Обстріл Херсона."', '"Обстріл Херсона.\x00', 1).replace('"forwarded_from"', '"fo', 1)
    p = tmp_path / "result.json"
    p.write_text(body, encoding="utf-8")
    recs, errs = read_any(p)
    assert [r.id for r in recs] == ["telegram:777/10"]
    assert recs[0].text == "Вночі Шахеди атакували Одесу."
    assert recs[0].published_at.isoformat().startswith("2026-03-12T03:10")
    assert any(e.field == "record" and "broken JSON" in e.message for e in errs)
    assert any("id=14" in e.record and e.field == "text" for e in errs)


def test_feed_with_wrong_date(tmp_path: Path) -> None:
    rss = """<?xml version="1.0"?><rss version="2.0"><channel><title>Test news</title>
<link>https://news.example.org/</link>
<item><guid>a1</guid><title>Drone strike on Kharkiv</title><pubDate>Thu, 12 Mar 2026 07:00:00 GMT</pubDate>
<description>&lt;p&gt;Overnight drones hit &lt;b&gt;Kharkiv&lt;/b&gt;.&lt;/p&gt;</description></item>
<item><guid>a2</guid><title>Shelling of Nikopol</title><pubDate>the day before yesterday</pubDate></item>
<item><guid>a3</guid><title>Missile strike on Odesa</title><pubDate>2026-03-12T09:00:00+02:00</pubDate></item>
</channel></rss>"""
    p = tmp_path / "feed.xml"
    p.write_text(rss, encoding="utf-8")
    recs, errs = read_any(p)
    assert [r.id.split("/")[-1] for r in recs] == ["a1", "a3"]
    assert "Kharkiv" in recs[0].text and "<b>" not in recs[0].text
    assert recs[1].published_at.hour == 7
    assert len(errs) == 1 and errs[0].field == "published" and "a2" in errs[0].record


def test_atom_feed(tmp_path: Path) -> None:
    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
<link href="https://atom.example.org/"/><id>urn:a</id><updated>2026-03-12T08:00:00Z</updated>
<entry><id>urn:e1</id><title>Обстрел Купянска</title><updated>2026-03-12T08:00:00Z</updated></entry></feed>"""
    p = tmp_path / "a.atom"
    p.write_text(atom, encoding="utf-8")
    recs, errs = read_any(p)
    assert len(recs) == 1 and not errs and recs[0].source == "feed:atom.example.org"


def test_patrol_structured(tmp_path: Path) -> None:
    pr = {"id": "p1", "source": "monitor:team-3", "published_at": "2026-03-12T10:00:00Z",
          "patrol": {"mode": "heard", "what": "explosion", "count": 4, "direction": "SE", "distance_band": "5-10",
                     "place": "Huliaipole", "at": "2026-03-12T07:40:00Z"}}
    bad = {**pr, "id": "p2", "patrol": {**pr["patrol"], "distance_band": "far"}}
    recs, errs = read_any(_jsonl(tmp_path, [json.dumps(pr), json.dumps(bad)]))
    assert len(recs) == 1 and "7.5 km south-east of Huliaipole" in recs[0].text
    assert errs[0].field == "patrol.distance_band"


def test_source_fields_checked(tmp_path: Path) -> None:
    lines = [json.dumps({**GOOD, "source_kind": "tv"}), json.dumps({**GOOD, "id": "2", "party": 7}),
             json.dumps({**GOOD, "id": "3", "lang": "de"}), json.dumps({**GOOD, "id": "4", "source_kind": "monitor_team"})]
    recs, errs = read_any(_jsonl(tmp_path, lines))
    assert [r.id for r in recs] == ["4"]
    assert [e.field for e in errs] == ["source_kind", "party", "lang"]
