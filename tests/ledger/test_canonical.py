"""The fast canonical encoder equals the rfc8785 package (RFC 8785) byte for byte."""

from __future__ import annotations

import math
from datetime import UTC

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from trucewatch.ledger.canonical import canonical_body, jcs, observation_body
from trucewatch.model import Location, Observation

floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.0, -0.0, 1e-4, 9.999e-5, 1e-7, 1e16, 1e21, 2.0**53, 2.0**53 + 2, 0.1, 1 / 3,
                                    123456789.123, 5e-324, 1.7976931348623157e308, 1e15 + 0.5]))
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.sampled_from(
    ["\u0000\u001f\u007f", "\ue000", "\U0001f600", "a\"b\\c", "\u2028", "é", "\ufb33", "\U00010000"])
ints = st.integers(-(2**53) + 1, 2**53 - 1)
values = st.recursive(st.none() | st.booleans() | ints | floats | texts,
                      lambda c: st.lists(c, max_size=4) | st.dictionaries(texts, c, max_size=4), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(values)
def test_equals_rfc8785(v):
    try:
        want = rfc8785.dumps(v)
    except Exception as exc:  # what the package refuses, jcs refuses too
        with pytest.raises(type(exc)):
            jcs(v)
        return
    assert jcs(v) == want


def test_known_cases():
    # RFC 8785 section 3.2.2.3 number examples and UTF-16 key ordering (3.2.3)
    assert jcs({"b": 1.0, "a": [1e21, 1e-7, -0.0, 0.000001]}) == rfc8785.dumps({"b": 1.0, "a": [1e21, 1e-7, -0.0,
                                                                                                  0.000001]})
    assert jcs({"\ue000": 1, "\U0001f600": 2}) == rfc8785.dumps({"\ue000": 1, "\U0001f600": 2})
    assert jcs({"n": 250.0}) == b'{"n":250}'
    with pytest.raises(rfc8785.FloatDomainError):
        jcs({"x": math.nan})


small_floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e7, max_value=1e7)


@settings(max_examples=150, deadline=None)
@given(attrs=st.dictionaries(texts, values, max_size=4), lat=st.floats(-90, 90), lon=st.floats(-180, 180),
       major=st.floats(1, 400_000), minor=st.floats(1, 400_000), angle=small_floats,
       sigma=st.floats(0, 1e9, allow_infinity=False), t=st.datetimes(timezones=st.just(UTC)),
       oid=texts.filter(bool), ph=st.none() | st.just("ab" * 32),
       fp=st.none() | st.just({"type": "Polygon", "coordinates": [[[37.0, 48.0], [37.1, 48.0], [37.0, 48.1],
                                                                   [37.0, 48.0]]]}))
def test_observation_body_fast_path_equals_rfc8785(attrs, lat, lon, major, minor, angle, sigma, t, oid, ph, fp):
    obs = Observation(id=oid, source_id="src-1", kind="impact", time=t, time_sigma_s=sigma, payload_hash=ph,
                      location=Location(lat=lat, lon=lon, err_major_m=major, err_minor_m=minor, err_angle_deg=angle,
                                        footprint=fp), attributes=attrs)
    try:
        want = rfc8785.dumps(observation_body(obs))
    except Exception as exc:
        with pytest.raises(type(exc)):
            canonical_body(obs)
        return
    assert canonical_body(obs) == want


def test_plain_observations_take_the_fast_path():
    from tests.ledger.conftest import make_observations
    from trucewatch.ledger.canonical import _fast_body

    for o in make_observations(50):
        assert _fast_body(o) == rfc8785.dumps(observation_body(o))
