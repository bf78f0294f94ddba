"""Fusion settings: gates, persistence windows and confidence weights.

Everything that is a judgement call (how long a fire stays visible to a
satellite, how wide the gates are, how much a thermal pixel without excess
heat is worth) lives here and in docs/fusion.md, not in the algorithm.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from trucewatch.fusion.clutter import ClutterMap


def _default_persist() -> dict[str, float]:
    # How long after the happening an observation of this kind can still see it (s).
    return {
        "thermal_anomaly": 12 * 3600.0,  # a fire after a strike burns for hours
        "damage": 14 * 86400.0,  # imagery change: any time until the next acquisition
        "weapon_sighting": 0.0,
        "report_claim": 0.0,  # the text stage already gives the claimed time and its sigma
    }


def _default_detection() -> dict[str, float]:
    # Share of real events that a report, a heat pixel or an imagery change joins.
    return {"report_claim": 0.5, "thermal_anomaly": 0.5, "damage": 0.5}


@dataclass
class FusionConfig:
    """Gates and weights (defaults documented in docs/fusion.md)."""

    #: Spatial gate: squared Mahalanobis distance of two positions given both
    #: covariances (chi-square, 2 dof, 99.9 %).
    space_gate_chi2: float = 13.82
    #: Time gate in combined one-sigma units (after persistence windows).
    time_gate_sigma: float = 3.5
    #: Text reports attach with a tighter gate (99 %, 3 sigma): they are vague
    #: and many, and a report that fits no event stands on its own.
    text_space_gate_chi2: float = 9.21
    text_time_frac: float = 3.0 / 3.5
    #: Rows less reliable than this (background heat) do not anchor text reports.
    min_anchor_reliability: float = 0.3
    #: Time uncertainty floor (s) for clocks and processing.
    time_floor_s: float = 1.0
    #: Position uncertainty floor (m, one sigma) for every observation.
    space_floor_m: float = 10.0
    #: Observations this precise (95 % major axis, m) and this sharp in time
    #: (sigma, s) seed events; coarser ones attach to seeds.
    seed_max_err_m: float = 3000.0
    seed_max_time_sigma_s: float = 120.0
    persist_s: dict[str, float] = field(default_factory=_default_persist)
    #: Acoustic fixes (launches, impacts) at one place within this time are one
    #: fire mission (the rounds of a salvo, seconds apart), not one event per round.
    fire_mission_window_s: float = 60.0
    #: Impacts of one source this close (m) and within that window are the rounds of one
    #: salvo, whether or not their launches were located and paired: a sheaf's dispersion is
    #: tens of metres for guns and mortars and up to several hundred for rocket salvos.
    salvo_spread_m: float = 500.0
    #: Sightings of one weapon stay one event while within this time of each other.
    sighting_window_s: float = 3 * 3600.0
    #: Sightings of one weapon class this close (m) while their windows overlap are
    #: one position (a battery): one event and one finding, however many vehicles.
    weapon_position_m: float = 300.0
    #: Interference reports of one jamming episode stay one event within this window.
    interference_window_s: float = 3600.0
    #: Vessel incidents of one vessel stay one event within this window.
    vessel_window_s: float = 6 * 3600.0
    #: Sensors of one network and kind closer than this share an error (m).
    shared_error_cell_m: float = 25_000.0
    #: Reject observations whose time sigma is above this (s): they say nothing about when.
    max_time_sigma_s: float = 7 * 86400.0
    #: Reliability used for a source the caller does not know (never silently 1).
    unknown_source_reliability: float = 0.3
    #: Strict mode raises FusionInputError on any bad record instead of skipping it.
    strict: bool = False
    #: How often a real event yields a row of each joining class (association
    #: probability, docs/confidence.md; used only with a clutter map).
    detection_prob: dict[str, float] = field(default_factory=_default_detection)
    #: Clutter map (JSON written by ``trucewatch fusion learn-clutter``, or a
    #: ClutterMap): scales the support of reports and heat by the chance that
    #: they joined by coincidence.  None: no scaling.
    clutter_map: Any = None

    def clutter(self) -> Any:
        """The loaded ClutterMap, or None (a path is read once)."""
        if isinstance(self.clutter_map, str | Path):
            self.clutter_map = ClutterMap.load(self.clutter_map)
        return self.clutter_map

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FusionConfig:
        known = {f.name for f in fields(cls)}
        bad = sorted(set(data) - known)
        if bad:
            raise ValueError(f"fusion config: unknown key(s) {', '.join(bad)}; known: {', '.join(sorted(known))}")
        cfg = cls(**{k: v for k, v in data.items() if k not in ("persist_s", "detection_prob")})
        if "persist_s" in data:
            cfg.persist_s = {**_default_persist(), **data["persist_s"]}
        if "detection_prob" in data:
            dp = data["detection_prob"]
            if not isinstance(dp, dict) or any(not isinstance(v, int | float) or not 0 < v <= 1 for v in dp.values()):
                raise ValueError("fusion config: detection_prob: expected a mapping of class to a probability in (0, 1]")
            cfg.detection_prob = {**_default_detection(), **{k: float(v) for k, v in dp.items()}}
        if cfg.clutter_map is not None:
            if not isinstance(cfg.clutter_map, str):
                raise ValueError("fusion config: clutter_map: expected the path of a clutter map JSON")
            cfg.clutter()  # a bad map is reported now, naming its field, not in the middle of a run
        return cfg

    @classmethod
    def from_yaml(cls, path: str | Path) -> FusionConfig:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: expected a mapping of fusion settings")
        return cls.from_dict(raw.get("fusion", raw))
