"""Training-seed records: read back per model and seed, and refused for models no chapter compares by seed."""

import json

import pytest

from utils.zoo import seeds


def test_records_are_read_back_by_model_and_seed(tmp_path):
    path = tmp_path / "seeds.json"
    path.write_text(json.dumps({"multiscale": {"1": {"metrics": {"miou": 0.61}, "trained": {"seed": 1}},
                                               "2": {"metrics": {"miou": 0.63}, "trained": {"seed": 2}}}}))
    assert seeds.seed_scores("multiscale", path=path) == {1: 0.61, 2: 0.63}
    assert seeds.seed_scores("singlescale", path=path) == {}
    assert seeds.read_records(tmp_path / "none.json") == {}


def test_a_model_no_chapter_compares_by_seed_is_refused(tmp_path):
    with pytest.raises(ValueError, match="name: patchnet belongs to 02_patches_to_fcn"):
        seeds.run_seed("patchnet", 1, runs=tmp_path)
    with pytest.raises(SystemExit):
        seeds.main(["multiscale", "--seeds", "0"])
