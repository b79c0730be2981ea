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
    with pytest.raises(ValueError, match="name: patchnet belongs to 02_patches_to_fcn"):
        seeds.shipped_record("patchnet")
    with pytest.raises(SystemExit):
        seeds.main(["no_such_model"])


def test_seed_differences_pair_seeds_both_models_have_and_read_any_pass(tmp_path):
    path = tmp_path / "seeds.json"
    path.write_text(json.dumps({
        "recurrent": {"1": {"metrics": {"miou": 0.6, "miou_by_iteration": [0.4, 0.55, 0.6]}},
                      "2": {"metrics": {"miou": 0.7, "miou_by_iteration": [0.5, 0.6, 0.7]}}},
        "recurrent_one_pass": {"0": {"metrics": {"miou": 0.5}}, "2": {"metrics": {"miou": 0.65}}}}))
    assert seeds.seed_differences("recurrent", "recurrent_one_pass", 0.01, path=path) == pytest.approx((0.01, 0.05))
    second = seeds.seed_differences("recurrent", "recurrent", 0.1, lambda m: m["miou_by_iteration"][1],
                                    lambda m: m["miou_by_iteration"][0], path=path)
    assert second == pytest.approx((0.1, 0.15, 0.1))
    assert seeds.seed_differences("multiscale", "singlescale", -0.2, path=path) == (-0.2,)


def test_seed_contrast_weights_every_model_of_each_seed_all_models_have(tmp_path):
    path = tmp_path / "seeds.json"
    path.write_text(json.dumps({
        "fcn32s": {"1": {"metrics": {"miou": 0.5}}, "2": {"metrics": {"miou": 0.4}}},
        "fcn16s": {"1": {"metrics": {"miou": 0.6}}, "2": {"metrics": {"miou": 0.5}}},
        "fcn8s": {"1": {"metrics": {"miou": 0.65}}}}))
    weights = {"fcn16s": 2, "fcn32s": -1, "fcn8s": -1}  # pool4's gain minus pool3's: 0.1 - 0.05 for seed 1
    assert seeds.seed_contrast(weights, 0.02, path=path) == pytest.approx((0.02, 0.05))
    assert seeds.seed_contrast({"fcn16s": 1, "fcn32s": -1}, 0.0, path=path) == pytest.approx((0.0, 0.1, 0.1))
