"""Fixtures for the drone tests: the sample agreement and small synthetic flights."""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pytest

from trucewatch.geo import LocalFrame
from trucewatch.sim.drone import fly
from trucewatch.sources.drone.telemetry import Camera, Flight

T0 = 1_773_561_600.0  # 2026-03-15T08:00:00Z


@pytest.fixture(scope="session")
def agreement():
    from trucewatch.agreement import load_agreement

    return load_agreement(str(files("trucewatch") / "data/agreements/ua-ru-2026/agreement.yaml"))


def make_flight(lat: float = 48.5, lon: float = 37.0, *, seed: int = 0, agl: float = 500.0, pitch: float = -90.0,
                legs: np.ndarray | None = None, airframe: str = "drone:test-01", sysid: int = 7) -> tuple[Flight, dict]:
    """A short patrol (a few minutes) over (lat, lon); returns the reported flight and the truth columns."""
    rng = np.random.default_rng(seed)
    frame = LocalFrame(lat, lon)
    path = legs if legs is not None else np.array([[-3000.0, 0.0], [3000.0, 0.0], [3000.0, 400.0], [-3000.0, 400.0]])
    cam = Camera(hfov_deg=50.0, vfov_deg=29.4, width_px=1920, height_px=1080, frame_interval_s=1.0)
    fl, truth = fly(rng, frame, path, T0, cam, airframe=airframe, sysid=sysid, agl=agl, ground_msl=150.0, gimbal_pitch=pitch)
    return fl, truth


@pytest.fixture
def flight():
    return make_flight()


@pytest.fixture
def make():
    """The flight factory (tests cannot import conftest by name)."""
    return make_flight
