"""Helpers for the mission tests: a store made by `trucewatch init`, the CLI, real sample files."""

from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from trucewatch.cli import app

REPO = Path(__file__).resolve().parents[2]
AGREEMENT = REPO / "trucewatch" / "data" / "agreements" / "ua-ru-2026" / "agreement.yaml"
#: Real sample files kept in the repo (see each folder's SOURCE.md / SOURCES.md).
SAMPLES = {
    "firms": REPO / "tests/sources/satellite/data/viirs_noaa20_nrt_2025-11-16_sample.csv",
    "firms-slice": REPO / "tests/sources/satellite/data/ukraine_2022_lat_lon_date_slice.csv",
    "feed-rss": REPO / "tests/sources/text/data/feed.rss",
    "feed-atom": REPO / "tests/sources/text/data/feed.atom",
    "telegram": REPO / "tests/sources/text/data/telegram_result.json",
    "headlines": REPO / "tests/sources/text/data/viina_headlines_slice.csv",
    "nmea": REPO / "tests/sources/sea/data/pyais_sample.nmea",
    "nmea-gpsd": REPO / "trucewatch/data/eval/real/sea/heldout/gpsd_ais-nmea.log",
    "air": REPO / "trucewatch/data/eval/real/air/dev.jsonl",
}


def run(*args: object, code: int | None = 0):
    res = CliRunner().invoke(app, [str(a) for a in args])
    if code is not None:
        assert res.exit_code == code, (res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


def init_store(tmp: Path) -> Path:
    db = tmp / "mission.db"
    run("init", "--db", db, "--agreement", AGREEMENT)
    return db




def copy_samples(dest: Path, *names: str) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(SAMPLES[n], dest / SAMPLES[n].name)) for n in names]


def text_claims(path: Path) -> int:
    """How many observations the text stage makes of a file: a post that names several places
    (a General Staff list of shelled villages) is one claim per place, so this can exceed the records."""
    from trucewatch.agreement import load_agreement
    from trucewatch.data import default_agreement_path
    from trucewatch.sources.text.intake import read_any
    from trucewatch.sources.text.pipeline import extract_observations

    got = read_any(path)
    records = got[0] if isinstance(got, tuple) else got
    obs, _errors = extract_observations(records, load_agreement(default_agreement_path()))
    return len(obs)
