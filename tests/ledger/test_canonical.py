"""The fast canonical encoder equals the rfc8785 package (RFC 8785) byte for byte."""

from __future__ import annotations

import math

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from trucewatch.ledger.canonical import jcs

floats = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.0, -0.0, 1e-4, 9.999e-5, 1e-7, 1e16, 1e21, 2.0**53, 2.0**53 + 2, 0.1, 1 / 3,
                                    123456789.123, 5e-324, 1.7976931348623157e308, 1e15 + 0.5]))
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.sampled_from(
    ["\u0000\u001f\u007f", "\ue000", "\U0001f600", "a\"b\\c", "\u2028", "é", "\ufb33", "\U00010000"])
ints = st.integers(-(2**53) + 1, 2**53 - 1)
values = st.recursive(st.none() | st.booleans() | ints | floats | texts,
                      lambda c: st.lists(c, max_size=4) | st.dictionaries(texts, c, max_size=4), max_leaves=12)


@settings(max_examples=400, deadline=None)
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
    with pytest.raises(Exception):
        jcs({"x": math.nan})
