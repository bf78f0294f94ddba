"""The agreement file format (YAML pointing at GeoJSON files), and its checks.

See docs/formats.md#agreement.  Every problem is reported as an
:class:`AgreementProblem` carrying its path inside the file (``zones[2].party``),
never as a traceback; :func:`load_spec` collects them all before failing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trucewatch.errors import TruceWatchError
from trucewatch.model import Rule


@dataclass(frozen=True)
class AgreementProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class AgreementError(TruceWatchError, ValueError):
    """The agreement file is not usable; ``problems`` lists every reason."""

    def __init__(self, file: str, problems: list[AgreementProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: {len(problems)} problem(s):\n" + "\n".join(f"  {p}" for p in problems))


#: Years an agreement can start or end in; outside is a typo or a corrupt file.
MIN_YEAR, MAX_YEAR = 1990, 2100


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartySpec(_Spec):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")
    name: str = ""


class WeaponClassSpec(_Spec):
    """A weapon class and how far from the line it must be withdrawn.

    ``width_km`` is the width of the security zone as the 2015 Package of
    Measures words it (split equally on both sides); ``distance_km`` is the
    distance from the line on each side.  Give exactly one.
    """

    width_km: float | None = Field(default=None, gt=0, le=2000)
    distance_km: float | None = Field(default=None, gt=0, le=1000)
    #: Sighting classes that belong to this weapon class (``tank``, ``mlrs``...).
    includes: list[str] = Field(default_factory=list)
    description: str = ""


class ZoneSpec(_Spec):
    id: str
    kind: str = Field(pattern=r"^(buffer|withdrawal|exclusion|corridor|port_exclusion|storage_site|other)$")
    #: Party whose side it is on (withdrawal zones) or None for both sides.
    party: str | None = None
    #: GeoJSON file (relative to the agreement) or inline geometry; derived from the line when absent.
    geometry: str | dict[str, Any] | None = None
    distance_km: float | None = Field(default=None, gt=0, le=1000)
    weapon_class: str | None = None
    #: Sea zones: vessel types barred inside (``military``, ``any``...).
    barred_vessel_types: list[str] = Field(default_factory=list)
    description: str = ""


class ProtectedObjectSpec(_Spec):
    id: str
    name: str
    category: str = "energy"  # energy, port, hospital, nuclear, ...
    lat: float
    lon: float
    radius_m: float = Field(default=1000.0, gt=0, le=100_000)
    party: str | None = None


class RuleSpec(_Spec):
    id: str
    kind: Rule
    description: str = ""
    #: Optional restriction (protected-object categories, weapon classes, vessel types).
    applies_to: list[str] = Field(default_factory=list)


class AgreementSpec(_Spec):
    id: str = Field(min_length=1)
    name: str = ""
    domains: list[str] = Field(default_factory=lambda: ["land", "air", "sea"])
    parties: list[PartySpec] = Field(min_length=2)
    start: datetime
    end: datetime | None = None
    #: GeoJSON file with the contact line (LineString/MultiLineString), relative path.
    contact_line: str | dict[str, Any]
    #: GeoJSON file whose features carry ``properties.party``: each party's controlled area.
    areas: str | dict[str, Any] | None = None
    #: Alternatively: which party is on the left of the line as drawn (first to last vertex).
    left_party: str | None = None
    buffer_zone_km: float | None = Field(default=None, gt=0, le=200)
    weapon_classes: dict[str, WeaponClassSpec] = Field(default_factory=dict)
    zones: list[ZoneSpec] = Field(default_factory=list)
    protected_objects: list[ProtectedObjectSpec] = Field(default_factory=list)
    rules: list[RuleSpec] = Field(min_length=1)


def _loc_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def read_geojson(ref: str | dict[str, Any], base: Path, path: str) -> tuple[dict[str, Any] | None, list[AgreementProblem]]:
    """Resolve an inline or file GeoJSON reference; problems name ``path``."""
    if isinstance(ref, dict):
        return ref, []
    file = (base / ref).resolve()
    if not file.is_file():
        return None, [AgreementProblem(path, f"file not found: {ref}")]
    try:
        return json.loads(file.read_text(encoding="utf-8")), []
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, [AgreementProblem(path, f"{ref} is not valid GeoJSON: {exc}")]
    except RecursionError:
        return None, [AgreementProblem(path, f"{ref} is not valid GeoJSON: nested too deeply")]
    except ValueError as exc:  # an integer past Python's digit limit
        return None, [AgreementProblem(path, f"{ref} is not valid GeoJSON: {str(exc)[:120]}")]


def load_spec(file: str | Path) -> tuple[AgreementSpec, Path]:
    """Parse and schema-check the YAML; raise AgreementError with every problem."""
    file = Path(file)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgreementError(str(file), [AgreementProblem("(file)", "file not found")]) from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise AgreementError(str(file), [AgreementProblem("(file)", f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise AgreementError(str(file), [AgreementProblem("(file)", "not valid YAML: nested too deeply")]) from None
    except (ValueError, OverflowError) as exc:  # PyYAML's int and timestamp constructors: 5000 digits, year 9999-14:00
        raise AgreementError(str(file), [AgreementProblem("(file)", f"not valid YAML: {str(exc)[:120]}")]) from None
    if not isinstance(raw, dict):
        raise AgreementError(str(file), [AgreementProblem("(root)", "expected a mapping of fields")])
    try:
        spec = AgreementSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [AgreementProblem(_loc_path(e["loc"]), e["msg"]) for e in exc.errors()]
        raise AgreementError(str(file), problems) from None
    bad = []
    for name in ("start", "end"):
        t = getattr(spec, name)
        try:
            year = (t if t.tzinfo is None else t.astimezone(UTC)).year if t is not None else None
        except OverflowError:
            year = 0
        if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
            bad.append(AgreementProblem(name, f"{t.isoformat()} is not a date in {MIN_YEAR}..{MAX_YEAR}"))
    if bad:
        raise AgreementError(str(file), bad)
    return spec, file.parent
