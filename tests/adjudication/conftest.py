from __future__ import annotations

import pytest

from trucewatch.agreement import Agreement, load_agreement
from trucewatch.sim.testing import AGREEMENT


@pytest.fixture(scope="session")
def agreement() -> Agreement:
    """The sample agreement, loaded once per session (it takes about 1.5 s)."""
    return load_agreement(AGREEMENT)
