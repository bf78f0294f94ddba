"""Acoustic sensor network: arrivals -> associated events -> located fixes -> Observations.

Entry points: :func:`locate_files` / :func:`observations_from` for the ingest
path, :func:`trucewatch.sim.acoustic.simulate` for scenarios, the ``trucewatch
acoustic`` CLI (locate, plan, listen).  See docs/acoustic.md.
"""

from __future__ import annotations

from pathlib import Path

from trucewatch.agreement import Agreement
from trucewatch.model import Observation
from trucewatch.sources.acoustic.associate import LocateConfig
from trucewatch.sources.acoustic.formats import (
    Arrivals,
    Sensors,
    parse_arrival_rows,
    read_arrivals,
    read_sensors,
)
from trucewatch.sources.acoustic.pairing import Pair, launch_zones, pair_fixes
from trucewatch.sources.acoustic.pipeline import SOURCE_ID, Failure, Fix, LocateResult, locate, to_observations


def locate_files(sensors_path: str | Path, arrivals_path: str | Path, cfg: LocateConfig | None = None) -> LocateResult:
    """Read a registry and an arrivals file, locate every event; bad records land in ``result.errors``."""
    sensors, s_err = read_sensors(sensors_path)
    arr, a_err, notes = read_arrivals(arrivals_path, sensors)
    res = locate(sensors, arr, cfg)
    res.errors = s_err + a_err
    res.notes = notes + res.notes
    return res


def observations_from(sensors: Sensors, arrivals: Arrivals, cfg: LocateConfig | None = None, agreement: Agreement | None = None,
                      source_id: str = SOURCE_ID) -> tuple[list[Observation], LocateResult, list[Pair]]:
    """Sensors + arrivals -> Observations (with pair_id on paired launch/impact), the result, the pairs."""
    res = locate(sensors, arrivals, cfg)
    pairs = pair_fixes(res.fixes, agreement)
    pid = {fid: p.pair_id for p in pairs for fid in (p.launch_id, p.impact_id)}
    extra = {fid: {"zone_ids": z} for fid, z in launch_zones(res.fixes, agreement).items() if z}
    return to_observations(res, source_id, pid, extra), res, pairs


def observations_from_files(sensors_path: str | Path, arrivals_path: str | Path, cfg: LocateConfig | None = None,
                            agreement: Agreement | None = None, source_id: str = SOURCE_ID
                            ) -> tuple[list[Observation], LocateResult, list[Pair]]:
    """The ingest path: registry + arrivals files -> Observations; bad records in ``result.errors``."""
    sensors, s_err = read_sensors(sensors_path)
    arr, a_err, notes = read_arrivals(arrivals_path, sensors)
    obs, res, pairs = observations_from(sensors, arr, cfg, agreement, source_id)
    res.errors = s_err + a_err
    res.notes = notes + res.notes
    return obs, res, pairs


__all__ = ["SOURCE_ID", "Arrivals", "Failure", "Fix", "LocateConfig", "LocateResult", "Pair", "Sensors",
           "locate", "locate_files", "observations_from", "observations_from_files", "pair_fixes", "parse_arrival_rows", "read_arrivals",
           "read_sensors", "to_observations"]
