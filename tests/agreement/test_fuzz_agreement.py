"""Fuzz: agreement YAML and its GeoJSON files, mutated, load or fail with an AgreementError whose
every problem names a path in the file; nothing else escapes and nothing hangs.

Input records of an agreement: its parties, zones, protected objects and rules.
When a mutated file still loads, each listed protected object and rule is in the
loaded agreement (none dropped); when it does not, each problem names where.
The base is the bundled Black Sea sample (it reuses ua-ru-2026's line and areas),
copied to a temporary folder once; each example writes its own file beside it.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path

import yaml
from hypothesis import given, settings

from tests.fuzzing import FUZZ, bounded, mutated
from trucewatch.agreement import load_agreement
from trucewatch.agreement.spec import AgreementError

SRC = Path(str(files("trucewatch") / "data" / "agreements"))
_TMP = Path(tempfile.mkdtemp(prefix="tw-fuzz-agreement-"))
for _name in ("black-sea-maritime", "ua-ru-2026"):
    shutil.copytree(SRC / _name, _TMP / _name)
DIR = _TMP / "black-sea-maritime"
YAML = (DIR / "agreement.yaml").read_bytes()
CORRIDOR = (DIR / "corridor.geojson").read_bytes()
LINE = (_TMP / "ua-ru-2026" / "contact_line.geojson").read_bytes()
_n = itertools.count()


def _load(yaml_bytes: bytes) -> None:
    p = DIR / f"fz-{next(_n)}.yaml"
    p.write_bytes(yaml_bytes)
    try:
        with bounded(20):
            ag = load_agreement(p)
    except AgreementError as exc:
        assert exc.problems
        for pr in exc.problems:
            assert pr.path and pr.message
        return
    finally:
        p.unlink()
    raw = yaml.safe_load(yaml_bytes.decode("utf-8"))
    assert len(ag.protected) == len(raw.get("protected_objects") or [])
    assert len(ag.rules) == len(raw["rules"])
    assert {z.id for z in ag.zones} >= {z["id"] for z in raw.get("zones") or []}


def test_base_loads() -> None:
    _load(YAML)


@settings(FUZZ, max_examples=50)
@given(data=mutated(YAML))
def test_fuzz_agreement_yaml(data: bytes) -> None:
    _load(data)


@settings(FUZZ, max_examples=20)  # a load builds the zones: about 0.2 s
@given(data=mutated(CORRIDOR))
def test_fuzz_zone_geojson(data: bytes) -> None:
    name = f"corridor-fz-{next(_n)}.geojson"
    (DIR / name).write_bytes(data)
    try:
        _load(YAML.replace(b"geometry: corridor.geojson", f"geometry: {name}".encode()))
    finally:
        (DIR / name).unlink()


@settings(FUZZ, max_examples=25)
@given(data=mutated(LINE, sep=b"],"))
def test_fuzz_contact_line_geojson(data: bytes) -> None:
    name = f"line-fz-{next(_n)}.geojson"
    (DIR / name).write_bytes(data)
    try:
        _load(YAML.replace(b"contact_line: ../ua-ru-2026/contact_line.geojson", f"contact_line: {name}".encode()))
    finally:
        (DIR / name).unlink()
