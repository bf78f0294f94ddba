"""A seismic array: a CSV of explosions located by the array (``station,time_unix_s,lat,lon,err_m``).

The stations' positions are withheld outside the mission, as an acoustic sensor's are."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from trucewatch.model import Location, Observation, ObservationKind, Source, SourceKind, from_unix
from trucewatch.report.sections import ReportSection
from trucewatch.sources.registry import (
    Adapter,
    AdapterResult,
    FileError,
    ReadContext,
    SourceAdapter,
    SourceKindPolicy,
)

KIND = "seismic_array"
HEADER = ["station", "time_unix_s", "lat", "lon", "err_m"]


def sniff(path: Path, head: bytes) -> bool:
    return head.decode("utf-8", "replace").split("\n", 1)[0].strip().lower().split(",") == HEADER


def read(path: Path, ctx: ReadContext) -> AdapterResult:
    res = AdapterResult(sources=[Source(id="seismic-1", kind=SourceKind(KIND), name="Seismic array 1")])
    with open(path, encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f), start=2):
            res.read += 1
            try:
                t, lat, lon, err = (float(row[k]) for k in ("time_unix_s", "lat", "lon", "err_m"))
            except (TypeError, ValueError) as exc:
                res.errors.append(FileError(f"{path.name}:{i}", "time_unix_s/lat/lon/err_m", str(exc)))
                continue
            res.observations.append(Observation(
                id=f"seis-{row['station']}-{int(t)}", source_id="seismic-1", kind=ObservationKind.EXPLOSION,
                time=from_unix(t), location=Location(lat=lat, lon=lon, err_major_m=err, err_minor_m=err),
                attributes={"station": row["station"]}))
    return res


def daily_section(store: Any, agreement: Any, start: datetime, end: datetime) -> dict[str, str] | None:
    obs = [o for o in store.query_observations(t_from=start.timestamp(), t_to=end.timestamp(),
                                               kinds=[ObservationKind.EXPLOSION.value])
           if o.source_id.startswith("seismic-")]
    if not obs:
        return None
    return {"title": "Seismic array: explosions", "html": f"<p>{len(obs)} explosion(s) located by the seismic array.</p>"}


ADAPTER = SourceAdapter(
    "seismic", "seismic array explosion fixes (CSV)",
    (Adapter("seismic-csv", "seismic array fixes: station,time_unix_s,lat,lon,err_m", ("explosion",), sniff, read),),
    (ObservationKind.EXPLOSION.value,),
    (SourceKindPolicy(KIND, identity_withheld=True, withheld_attributes=("station",)),),
    map_layer=None, report_section="seismic",
)
SECTION = ReportSection("seismic", daily_section, "explosions located by the seismic array")
