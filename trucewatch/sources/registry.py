"""The formats `trucewatch intake` reads, in one place.

Each adapter says what it is (``name``, ``kinds``), how to recognise a file from
its first bytes (``sniff``) and how to turn it into observations through its
source's own stage (``read``).  Formats are grouped by :class:`SourceAdapter`, which
also declares the observation kinds, the source kinds with what is withheld of
them outside the mission, the map layer and the report section.  A new source kind
adds one SourceAdapter to :data:`BUILTIN`, or ships it in a package's
``trucewatch.sources`` entry point (docs/plugins.md); intake, watch, the service's
redaction and the demo pick it up.

Companion files (an acoustic sensor registry, drone detections, radar
footprints) are not read alone: the adapter of the main file (arrivals,
telemetry, the GeoTIFF stack) finds them among the files of the same run or
beside the main file.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from trucewatch import plugins
from trucewatch.agreement import Agreement
from trucewatch.errors import RecordProblem, TruceWatchError
from trucewatch.model import Observation, ObservationKind, Source, SourceKind
from trucewatch.sources.acoustic import SOURCE_ID, LocateConfig, observations_from_files
from trucewatch.sources.air.intake import air_force_source, process_posts, read_posts
from trucewatch.sources.drone.detections import read_detections
from trucewatch.sources.drone.pipeline import bind_source, process_flight, resolve_source, source_for_file
from trucewatch.sources.drone.telemetry import Camera, read_flight
from trucewatch.sources.satellite.firms import read_firms, sources_for
from trucewatch.sources.satellite.firms import to_observations as firms_observations
from trucewatch.sources.satellite.radar import (
    RadarError,
    change_test,
    load_footprints,
    open_stack,
    radar_source,
)
from trucewatch.sources.satellite.radar import to_observations as radar_observations
from trucewatch.sources.sea.pipeline import ais_source, process_file
from trucewatch.sources.text import extract_observations, read_any, sources_of
from trucewatch.sources.text.intake import _csv_columns

HEAD_BYTES = 8192


#: Intake's name for the package's one record-problem type (public: ``mission.intake`` builds them too).
FileError = RecordProblem


@dataclass
class AdapterResult:
    sources: list[Source] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    read: int = 0  # records read (rows, posts, lines, arrivals, detections...)
    companions: list[Path] = field(default_factory=list)  # other files this read consumed


@dataclass
class ReadContext:
    """What a reader may need beyond its file: the agreement, the run's other files,
    the sources registered in the store."""

    agreement: Agreement | None = None
    batch: Sequence[Path] = ()
    sources: Sequence[Source] = ()


@dataclass(frozen=True)
class Adapter:
    name: str
    description: str
    kinds: tuple[str, ...]
    sniff: Callable[[Path, bytes], bool]
    read: Callable[[Path, ReadContext], AdapterResult]
    #: Read only alongside a main file (never on its own).
    companion: bool = False
    #: Sniffing order, lowest first: specific formats before generic ones (a CSV of
    #: headlines, any JSONL with a text field).  A plugin's formats default to 45.
    priority: int = 45


@dataclass(frozen=True)
class SourceKindPolicy:
    """What roles outside the mission's analysts may see of a source kind's evidence.

    ``identity_withheld``: the source id is replaced by "withheld (kind)" for liaisons
    and the public (a fixed sensor's id or a team's name could place or name it), and the
    ``withheld_attributes`` of its observations are blanked.  A kind no adapter
    declares is withheld (fail closed)."""

    kind: str
    identity_withheld: bool
    withheld_attributes: tuple[str, ...] = ()


#: A post's own words and where it was posted: withheld with a withheld source's identity.
POST_KEYS = ("text", "url", "channel")


def withheld(kind: str | SourceKind) -> SourceKindPolicy:
    """A source kind whose identity and words stay with the mission."""
    return SourceKindPolicy(str(kind), True, POST_KEYS)


def public(kind: str | SourceKind) -> SourceKindPolicy:
    """A source kind whose identity may be named outside the mission (open sources, satellites)."""
    return SourceKindPolicy(str(kind), False)


@dataclass(frozen=True)
class SourceAdapter:
    """One kind of source, as a plugin or a built-in stage declares it: the file formats
    it reads, the observation kinds it produces, the source kinds it registers (with
    what is withheld from liaison and public views), the dashboard layer that shows it
    (``service.layers``; None: only through findings) and its daily-report section
    (``report.sections``; None: none)."""

    name: str
    description: str
    formats: tuple[Adapter, ...]
    observation_kinds: tuple[str, ...]
    source_kinds: tuple[SourceKindPolicy, ...]
    map_layer: str | None = None
    report_section: str | None = None

    def declare_kinds(self) -> None:
        """A plugin's new source kinds become :class:`SourceKind` members (the store and
        the API then accept sources of that kind)."""
        for p in self.source_kinds:
            SourceKind.extend(p.kind)


# ------------------------------------------------------------------ helpers
def _text_head(head: bytes) -> str:
    return head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace").lstrip()


def _csv_header(head: bytes) -> list[str]:
    first = _text_head(head).split("\n", 1)[0].strip("\r")
    if not first or first.startswith(("{", "[", "<", "!", "$", "#")):
        return []
    try:
        return [h.strip().lower() for h in next(csv.reader([first]))]
    except (csv.Error, StopIteration):
        return []


def _jsonl_first(head: bytes) -> dict[str, Any] | None:
    """The first JSON object of a JSONL head (None if the head is not JSONL)."""
    text = _text_head(head)
    if not text.startswith("{"):
        return None
    line = text.split("\n", 1)[0]
    try:
        obj = json.loads(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def _near(path: Path, ctx: ReadContext, pred: Callable[[Path, bytes], bool]) -> list[Path]:
    """Companion files that ``pred`` accepts: among this run's files (those in the main file's own
    folder first, so one run may hold several networks' folders), else the main file's siblings."""
    pool = [p for p in ctx.batch if p != path] or [p for p in sorted(path.parent.iterdir()) if p.is_file() and p != path]
    out = []
    for p in pool:
        try:
            with open(p, "rb") as f:
                head = f.read(HEAD_BYTES)
        except OSError:
            continue
        if pred(p, head):
            out.append(p)
    return [p for p in out if p.parent == path.parent] or out


def _err(record: Any, fld: Any, message: Any) -> FileError:
    return FileError(str(record), str(fld), str(message))


_LINE_ERR = re.compile(r"^(?P<rec>[^:\s]+:\d+(?: \([^)]*\))?|line \d+[^:]*):\s*(?:field (?P<field>[\w.]+):\s*)?"
                       r"(?P<msg>.*)$")


def _from_text(s: str, default_record: str) -> FileError:
    """A stage's free-text problem (``file:line: field x: why``) as record/field/message."""
    m = _LINE_ERR.match(s)
    if m:
        return FileError(m["rec"], m["field"] or "(record)", m["msg"])
    return FileError(default_record, "(file)", s)


# -------------------------------------------------------------------- FIRMS
def _sniff_firms(path: Path, head: bytes) -> bool:
    h = set(_csv_header(head))
    return {"latitude", "longitude", "acq_date"} <= h


def _read_firms(path: Path, ctx: ReadContext) -> AdapterResult:
    batch = read_firms(path)
    errs = [_err(f"line {e.line}", e.field, e.message) for e in (getattr(batch, "errors", []) or [])]
    if len(batch) == 0:
        return AdapterResult([], [], errs, len(errs))
    obs = firms_observations(batch)
    return AdapterResult(sources_for(batch), obs, errs, len(batch) + len(errs))


# --------------------------------------------------------------------- text
def _text_records(path: Path, ctx: ReadContext) -> AdapterResult:
    counts: dict[str, int] = {}
    recs, read_errs = read_any(path, counts)
    obs, ext_errs = extract_observations(recs, ctx.agreement)
    errs = [_err(e.record, e.field, e.message) for e in [*read_errs, *ext_errs]]
    read = counts.get("read", len(recs) + len(read_errs))
    return AdapterResult(sources_of(recs), obs, errs, read)


def _sniff_telegram(path: Path, head: bytes) -> bool:
    t = _text_head(head)
    return t.startswith("{") and '"messages"' in t[:HEAD_BYTES] and not t.split("\n", 1)[0].rstrip().endswith("}")


def _sniff_feed(path: Path, head: bytes) -> bool:
    t = _text_head(head)[:2048].lower()
    return t.startswith("<") and ("<rss" in t or "<feed" in t or "<rdf:rdf" in t)


def _sniff_headlines(path: Path, head: bytes) -> bool:
    h = _csv_header(head)
    return len(h) >= 2 and None not in _csv_columns(h)


_AIR_WORDS = re.compile(r"ППО|Повітрян\w* сил|ВВС|Shahed|Шахед|шахед|shot down|intercepted|збито|знищено|сбито|"
                        r"уничтожено|air defen[cs]e|Air Force|ударн\w+ БпЛА|крилат\w+ ракет|ballistic", re.I)


def _sniff_air(path: Path, head: bytes) -> bool:
    first = _jsonl_first(head)
    text = str(first.get("text", "")) if first else ""
    if not text and path.suffix.lower() == ".txt":
        text = _text_head(head)
    return bool(text) and len(_AIR_WORDS.findall(text)) >= 2


def _sniff_reports(path: Path, head: bytes) -> bool:
    first = _jsonl_first(head)
    return first is not None and isinstance(first.get("text"), str) and "flight_id" not in first


def _read_air(path: Path, ctx: ReadContext) -> AdapterResult:
    posts, p_err = read_posts(path)
    sid = "airforce:" + re.sub(r"[^A-Za-z0-9_.\-]", "_", path.stem)[:60]
    _, obs, s_err = process_posts(posts, sid)
    errs = [_err(e.record, e.field, e.message) for e in [*p_err, *s_err]]
    return AdapterResult([air_force_source(sid)] if obs else [], obs, errs, len(posts) + len(p_err))


# ----------------------------------------------------------------- acoustic
def _sniff_arrivals(path: Path, head: bytes) -> bool:
    h = set(_csv_header(head))
    if h:
        return "sensor_id" in h and "time_unix_s" in h and "lat" not in h
    first = _jsonl_first(head)
    return first is not None and "sensor_id" in first and "time_unix_s" in first


def _sniff_sensors(path: Path, head: bytes) -> bool:
    return {"sensor_id", "lat", "lon"} <= set(_csv_header(head))


def _read_acoustic(path: Path, ctx: ReadContext) -> AdapterResult:
    regs = _near(path, ctx, _sniff_sensors)
    if not regs:
        return AdapterResult(errors=[FileError(path.name, "sensor registry", "arrivals need the sensor registry "
                                               "(a CSV with sensor_id, lat, lon) in the same run or folder")])
    if len(regs) > 1:
        return AdapterResult(errors=[FileError(path.name, "sensor registry", "several sensor registries found ("
                                               + ", ".join(p.name for p in regs) + "); intake one folder per network")])
    obs, res, _pairs = observations_from_files(regs[0], path, LocateConfig(), ctx.agreement)
    errs = list(res.errors)  # already "<file> record <n>"
    src = Source(id=SOURCE_ID, kind=SourceKind.ACOUSTIC_NETWORK, name="Acoustic sensor network", reliability=0.9)
    n_arr = sum(1 for _ in open(path, "rb")) - 1 if _csv_header(open(path, "rb").read(HEAD_BYTES)) else \
        sum(1 for ln in open(path, "rb") if ln.strip())
    return AdapterResult([src], obs, errs, max(n_arr, 0), regs)


def _read_companion(path: Path, ctx: ReadContext) -> AdapterResult:  # pragma: no cover - never called
    return AdapterResult()


# -------------------------------------------------------------------- drone
_MAVLINK_MAGIC = (0xFE, 0xFD)


def _sniff_tlog(path: Path, head: bytes) -> bool:
    # a tlog record: 8-byte big-endian microsecond timestamp, then a MAVLink v1/v2 packet
    return len(head) > 9 and head[8] in _MAVLINK_MAGIC and head[0] == 0 and not head[:1].isalpha()


def _sniff_drone_jsonl(path: Path, head: bytes) -> bool:
    first = _jsonl_first(head)
    return first is not None and first.get("type") == "flight"


def _sniff_detections(path: Path, head: bytes) -> bool:
    first = _jsonl_first(head)
    return first is not None and "flight_id" in first and "class" in first


def _read_drone(path: Path, ctx: ReadContext) -> AdapterResult:
    sources = list(ctx.sources)
    try:
        src = source_for_file(str(path), sources)
        cam = Camera.from_dict(src.attributes["camera"]) if src is not None and src.attributes.get("camera") else None
        flight = read_flight(path, cam)
        if src is None:
            src = resolve_source(flight, sources)
        bind_source(flight, src)
    except Exception as exc:  # TelemetryError, UnregisteredSource, OSError: named, the file is not read
        return AdapterResult(errors=[FileError(path.name, "source", str(exc))])
    dets, errs, comp = [], [], []
    for dp in _near(path, ctx, _sniff_detections):
        batch = read_detections(dp)
        comp.append(dp)
        errs += [_from_text(p, dp.name) for p in batch.problems]
        dets += [d for d in batch.detections if d.flight_id == flight.flight_id]
    res = process_flight(flight, dets, ctx.agreement, detections_label=", ".join(p.name for p in comp) or "detections")
    errs += [_from_text(p, path.name) for p in res.problems]
    n = len(getattr(flight, "nav", {}).get("t", [])) if isinstance(getattr(flight, "nav", None), dict) else 0
    return AdapterResult([], res.observations, errs, n + len(dets), comp)


# ---------------------------------------------------------------------- sea
_NMEA = re.compile(rb"[!$](?:AI|BS|AB|AN|AR|AS|AT|AX|SA)VD[MO],")


def _sniff_nmea(path: Path, head: bytes) -> bool:
    return len(_NMEA.findall(head)) >= 1


def _read_nmea(path: Path, ctx: ReadContext) -> AdapterResult:
    sid = "ais:" + re.sub(r"[^A-Za-z0-9_.\-]", "_", path.stem)[:60]
    res = process_file(path, ctx.agreement, source_id=sid)
    errs = [_err(f"line {e.line}", e.field, e.message) for e in res.errors]
    lines = int(res.stats.get("lines", 0)) or sum(1 for ln in open(path, "rb") if ln.strip())
    return AdapterResult([ais_source(sid, f"AIS file {path.name}")] if res.observations else [],
                         res.observations, errs, lines)


# -------------------------------------------------------------------- radar
def _sniff_geotiff(path: Path, head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _sniff_footprints(path: Path, head: bytes) -> bool:
    t = _text_head(head)
    return t.startswith("{") and '"FeatureCollection"' in t and ("Polygon" in t or '"features"' in t)


def _read_radar(path: Path, ctx: ReadContext) -> AdapterResult:
    """A GeoTIFF stack: this file and every GeoTIFF beside it (one stack per folder); the latest quarter
    of the dates (at least one) is the inspection window, the rest the reference; footprints from a
    GeoJSON FeatureCollection in the run or folder."""
    stack_files = sorted({path, *(_near(path, ctx, _sniff_geotiff))})
    fps = _near(path, ctx, _sniff_footprints)
    if stack_files[0] != path:
        return AdapterResult(companions=[])  # read once, with the first file of the stack
    try:
        st = open_stack(list(stack_files))
        dates = np.unique(np.asarray(st.dates, dtype="datetime64[D]"))
        if len(dates) < 2:
            raise RadarError(["a change test needs images of at least two dates"])
        split = dates[len(dates) - max(1, len(dates) // 4)]
        res = change_test(list(stack_files), split, footprints=load_footprints(fps[0]) if fps else None, corr_px=2.0)
    except (RadarError, OSError, ValueError) as exc:
        return AdapterResult(errors=[FileError(path.name, "stack", str(exc))], companions=stack_files[1:])
    obs = radar_observations(res)
    return AdapterResult([radar_source()] if obs else [], obs, [], len(stack_files), [*stack_files[1:], *fps])


# ------------------------------------------------------------------ registry
_TELEGRAM = Adapter("telegram", "Telegram Desktop export (result.json)", ("report_claim",), _sniff_telegram,
                    _text_records, priority=10)
_FEED = Adapter("feed", "RSS or Atom feed", ("report_claim",), _sniff_feed, _text_records, priority=20)
_FIRMS = Adapter("firms", "NASA FIRMS active-fire CSV (VIIRS/MODIS)", ("thermal_anomaly",), _sniff_firms, _read_firms,
                 priority=30)
_ARRIVALS = Adapter("acoustic-arrivals", "acoustic arrivals (CSV/JSONL) with their sensor registry",
                    ("launch", "impact", "explosion"), _sniff_arrivals, _read_acoustic, priority=40)
_SENSORS = Adapter("acoustic-sensors", "acoustic sensor registry (read with the arrivals)", (), _sniff_sensors,
                   _read_companion, companion=True, priority=41)
_HEADLINES = Adapter("headlines-csv", "CSV of headlines with a date and a text column", ("report_claim",),
                     _sniff_headlines, _text_records, priority=50)
_NMEA_FMT = Adapter("ais-nmea", "AIS NMEA 0183 sentences (!AIVDM)", ("vessel_incident",), _sniff_nmea, _read_nmea,
                    priority=60)
_TLOG = Adapter("mavlink-tlog", "drone MAVLink telemetry log (tlog) with its detections",
                ("weapon_sighting", "gnss_interference"), _sniff_tlog, _read_drone, priority=70)
_DRONE_JSONL = Adapter("drone-telemetry", "drone telemetry JSONL with its detections",
                       ("weapon_sighting", "gnss_interference"), _sniff_drone_jsonl, _read_drone, priority=80)
_DETECTIONS = Adapter("drone-detections", "drone detections JSONL (read with the telemetry)", (), _sniff_detections,
                      _read_companion, companion=True, priority=90)
_GEOTIFF = Adapter("radar-geotiff", "radar GeoTIFF stack (one per folder) with footprints", ("damage",),
                   _sniff_geotiff, _read_radar, priority=100)
_FOOTPRINTS = Adapter("radar-footprints", "footprints GeoJSON (read with the radar stack)", (), _sniff_footprints,
                      _read_companion, companion=True, priority=110)
_AIR = Adapter("air-summaries", "air-defence summaries (JSONL posts or a .txt post)", ("air_attack",), _sniff_air,
               _read_air, priority=120)
_REPORTS = Adapter("reports-jsonl", "text reports, one JSON object per line with a text field", ("report_claim",),
                   _sniff_reports, _text_records, priority=1000)

K = ObservationKind
#: The built-in source kinds.  ``identity_withheld`` replaces the old hard-coded list in
#: the service's views (monitor teams, acoustic sensors and drones).
BUILTIN: list[SourceAdapter] = [
    SourceAdapter("text", "text reports: Telegram, feeds, headlines, monitors' and parties' reports",
                  (_TELEGRAM, _FEED, _HEADLINES, _REPORTS), (K.REPORT_CLAIM.value,),
                  (public(SourceKind.OPEN_SOURCE), public(SourceKind.PARTY_STATEMENT),
                   withheld(SourceKind.MONITOR_TEAM))),
    SourceAdapter("satellite", "NASA FIRMS thermal anomalies", (_FIRMS,), (K.THERMAL_ANOMALY.value,),
                  (public(SourceKind.SATELLITE),), report_section="satellite"),
    SourceAdapter("acoustic", "acoustic sensor networks (arrivals located by TDOA)", (_ARRIVALS, _SENSORS),
                  (K.LAUNCH.value, K.IMPACT.value, K.EXPLOSION.value),
                  (public(SourceKind.ACOUSTIC_NETWORK), withheld(SourceKind.ACOUSTIC_SENSOR))),
    SourceAdapter("sea", "AIS vessel reports", (_NMEA_FMT,), (K.VESSEL_INCIDENT.value,), (public(SourceKind.AIS),),
                  map_layer="sea", report_section="sea"),
    SourceAdapter("drone", "drone flights: telemetry, detections, GNSS interference", (_TLOG, _DRONE_JSONL, _DETECTIONS),
                  (K.WEAPON_SIGHTING.value, K.INTERFERENCE.value), (withheld(SourceKind.DRONE),),
                  report_section="drone"),
    SourceAdapter("radar", "radar change detection on GeoTIFF stacks", (_GEOTIFF, _FOOTPRINTS), (K.DAMAGE.value,),
                  (public(SourceKind.RADAR),), report_section="satellite"),
    SourceAdapter("air", "air-defence summaries and air tracks", (_AIR,), (K.AIR_SUMMARY.value, K.AIR_TRACK.value),
                  (public(SourceKind.AIR_DEFENCE),), map_layer="air", report_section="air"),
    SourceAdapter("simulator", "the scenario simulator's observations (benchmarks, demo)", (), (),
                  (public(SourceKind.SIMULATOR),)),
]


class RegistryError(TruceWatchError, ValueError):
    """A plugin source adapter that does not meet the interface or clashes with another."""


def source_adapters() -> list[SourceAdapter]:
    """Built-in source adapters, then those of installed plugins (``trucewatch.sources``)."""
    out = list(BUILTIN)
    names = {a.name for a in out}
    fmts = {f.name for a in out for f in a.formats}
    for p in plugins.load("sources"):
        a = p.value
        if not isinstance(a, SourceAdapter):
            raise RegistryError(f"plugin {p.entry_point!r} ({p.distribution}): {a!r} is not a SourceAdapter")
        clash = ({a.name} & names) | ({f.name for f in a.formats} & fmts)
        if clash:
            raise RegistryError(f"plugin {p.entry_point!r} ({p.distribution}): name(s) {', '.join(sorted(clash))} "
                                "already registered")
        names.add(a.name)
        fmts |= {f.name for f in a.formats}
        out.append(a)
    return out


def describe() -> list[dict[str, Any]]:
    """Every source adapter as the CLI and the API list it."""
    builtin = {id(a) for a in BUILTIN}
    return [{"name": a.name, "description": a.description, "formats": [f.name for f in a.formats],
             "observation_kinds": list(a.observation_kinds),
             "source_kinds": [{"kind": p.kind, "identity_withheld": p.identity_withheld,
                               "withheld_attributes": list(p.withheld_attributes)} for p in a.source_kinds],
             "map_layer": a.map_layer, "report_section": a.report_section, "plugin": id(a) not in builtin}
            for a in source_adapters()]


def formats() -> list[Adapter]:
    """Every format intake reads, in sniffing order (specific first)."""
    return sorted((f for a in source_adapters() for f in a.formats), key=lambda f: f.priority)


def kind_policies() -> dict[str, SourceKindPolicy]:
    """Source kind -> what is withheld of it, as the registered adapters declare."""
    out: dict[str, SourceKindPolicy] = {}
    for a in source_adapters():
        for p in a.source_kinds:
            prev = out.get(p.kind)
            # two adapters declaring one kind: the stricter declaration wins
            if prev is None or (p.identity_withheld and not prev.identity_withheld):
                out[p.kind] = p
    return out


def identity_withheld(kind: str | None) -> bool:
    """Whether a source of ``kind`` is named only to the mission's analysts; True for a
    missing or undeclared kind (fail closed: a forgotten declaration never leaks)."""
    if kind is None:
        return True
    p = kind_policies().get(str(kind))
    return True if p is None else p.identity_withheld


def withheld_attributes(kind: str | None) -> tuple[str, ...]:
    """Attribute keys blanked outside the analysts for observations of a source ``kind``
    (every post key for an undeclared kind)."""
    p = kind_policies().get(str(kind)) if kind is not None else None
    return POST_KEYS if p is None else p.withheld_attributes


class _Formats(Sequence[Adapter]):
    """:func:`formats` as a read-only list that follows the registry (plugins included)."""

    @overload
    def __getitem__(self, i: int) -> Adapter: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Adapter]: ...
    def __getitem__(self, i: int | slice) -> Adapter | Sequence[Adapter]:
        return formats()[i]

    def __len__(self) -> int:
        return len(formats())


class _ByName(Mapping[str, Adapter]):
    """Format name -> format, following the registry (plugins included)."""

    def __getitem__(self, name: str) -> Adapter:
        return {f.name: f for f in formats()}[name]

    def __iter__(self) -> Iterator[str]:
        return iter([f.name for f in formats()])

    def __len__(self) -> int:
        return len(formats())


ADAPTERS: Sequence[Adapter] = _Formats()
BY_NAME: Mapping[str, Adapter] = _ByName()


def sniff(path: Path) -> Adapter | None:
    """The first adapter that recognises ``path`` (order matters: specific before generic)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except OSError:
        return None
    for a in formats():
        try:
            if a.sniff(path, head):
                return a
        except Exception:  # a sniffer must never take intake down: the file is just not that format
            continue
    return None


def format_names(main_only: bool = True) -> list[str]:
    return [a.name for a in formats() if not (main_only and a.companion)]


__all__ = ["ADAPTERS", "BUILTIN", "BY_NAME", "POST_KEYS", "Adapter", "AdapterResult", "FileError", "ReadContext",
           "RegistryError", "SourceAdapter", "SourceKindPolicy", "describe", "format_names", "formats", "identity_withheld",
           "kind_policies", "public", "sniff", "source_adapters", "withheld", "withheld_attributes"]

