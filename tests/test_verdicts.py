"""The one verdict rule: every kind of claim, every outcome, and the refusals."""

import pytest

from utils.verdicts import VERDICTS, verdict


def test_a_claimed_gain_needs_the_interval_and_every_seed_above_zero():
    assert verdict("greater", (0.05, 0.02, 0.08)) == "direction reproduced"
    assert verdict("greater", (0.05, 0.02, 0.08), seeds=[0.04, 0.06, 0.05]) == "direction reproduced"
    assert verdict("greater", (0.05, 0.02, 0.08), seeds=[0.04, -0.01, 0.05]) == "inside the noise"
    assert verdict("greater", (0.01, -0.01, 0.03)) == "inside the noise"
    assert verdict("greater", (-0.05, -0.08, -0.02), seeds=[-0.04, -0.03]) == "not reproduced"


def test_no_difference_is_reproduced_only_by_a_narrow_interval():
    assert verdict("equal", (0.002, -0.004, 0.007)) == "reproduced"
    assert verdict("equal", (0.002, -0.004, 0.007), seeds=[0.02]) == "consistent with"
    assert verdict("equal", (0.01, -0.02, 0.04)) == "consistent with"
    assert verdict("equal", (0.03, 0.01, 0.05)) == "not reproduced"


def test_exact_claims_and_refusals():
    assert verdict("exact", holds=True) == "reproduced" and verdict("exact", holds=False) == "not reproduced"
    with pytest.raises(ValueError, match="claim must be one of"):
        verdict("bigger", (0.1, 0.0, 0.2))
    with pytest.raises(ValueError, match="holds"):
        verdict("exact")
    with pytest.raises(ValueError, match="interval"):
        verdict("greater")
    assert set(VERDICTS) >= {verdict("greater", (0, -1, 1)), verdict("equal", (0, -1, 1))}
