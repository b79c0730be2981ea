"""Training-seed records: read back per model and seed, refused for models no chapter compares by seed, and the
chapters' own measures taken again on every seed's weights (``utils.zoo.seed_measures``)."""

import json

import pytest
import torch

from utils import bottom_up
from utils.bootstrap import miou_of, pixel_accuracy_of, scene_confusions
from utils.chapters.upsampling_skip_connections import band_scene_confusions
from utils.data import NUM_CLASSES, Shapes
from utils.models import FCN_IMAGE_SIZE
from utils.zoo import seed_measures, seeds
from utils.zoo.checkpoints import load_shared
from utils.zoo.inference import in_chunks, predict


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


def test_every_measured_model_is_one_a_chapter_compares_by_seed():
    for name in seed_measures.MEASURES:
        assert seeds.chapter_scenes(name)["split"] == "test"  # refuses a model no chapter compares by seed
    assert seed_measures.measure("singlescale", torch.nn.Identity()) == {}


def test_the_clean_up_measure_is_the_chapter_s_confusions_summed(monkeypatch):
    monkeypatch.setattr(seed_measures, "SCENES_3", 3)
    monkeypatch.setattr(seed_measures, "SCENES_4", 2)
    model = load_shared("multiscale")
    measured = seed_measures.measure("multiscale", model)
    images, semantic = Shapes("test", 3).batch(range(3))
    probs = in_chunks(model, images).softmax(1)
    voted = torch.stack([bottom_up.superpixel_cleanup(i, p, bottom_up.SUPERPIXEL_SCALE) for i, p in zip(images, probs)])
    assert measured["pixel_accuracy_superpixels"] == pytest.approx(
        pixel_accuracy_of(scene_confusions(voted, semantic, NUM_CLASSES)))
    assert measured["miou_network"] == pytest.approx(miou_of(scene_confusions(probs.argmax(1), semantic, NUM_CLASSES)))
    assert {f"{metric}_{name}" for metric in ("miou", "pixel_accuracy")
            for name in ("network", *bottom_up.CLEANUPS)} | {"miou_chapter4_scenes"} == set(measured)


def test_the_edge_measure_is_chapter_5_s_band_and_the_size_bins_cover_every_object(monkeypatch):
    monkeypatch.setattr(seed_measures, "SCENES_5", 4)
    model = load_shared("fcn32s")
    measured = seed_measures.measure("fcn32s", model)
    images, semantic = Shapes("test", 4, image_size=FCN_IMAGE_SIZE).batch(range(4))
    band = band_scene_confusions(predict(model, images), semantic, (seed_measures.EDGE_BAND,))
    assert measured["miou_edge_band"] == pytest.approx(miou_of(band[seed_measures.EDGE_BAND]))
    assert measured["miou_edge_band"] != pytest.approx(miou_of(band["all"]))  # the band, not the whole image
    assert len(measured["recall_by_size"]) == len(seed_measures.SIZE_EDGES) - 1


def test_remeasuring_a_seed_whose_weights_were_not_kept_is_refused_with_the_fix(tmp_path, monkeypatch, capsys):
    with pytest.raises(ValueError, match=r"seed: recurrent seed 1 has no weights .*--seeds 1"):
        seeds.remeasure("recurrent", 1, runs=tmp_path)
    monkeypatch.setattr(seeds, "RECORDS", tmp_path / "seeds.json")
    with pytest.raises(SystemExit) as stop:
        seeds.main(["recurrent", "--seeds", "1", "--remeasure"])
    assert stop.value.code == 2 and "not recorded yet" in capsys.readouterr().err


def test_every_seed_of_a_model_records_the_same_metrics_and_the_measured_ones_carry_their_measures():
    records = seeds.read_records()
    for name, runs in records.items():
        keys = {seed: set(run["metrics"]) for seed, run in runs.items()}
        assert len({frozenset(k) for k in keys.values()}) == 1, f"{name}'s seeds record different metrics: {keys}"
    for name in seed_measures.MEASURES:
        assert any(key.startswith(("miou_", "pixel_accuracy_", "recall_")) and key not in ("miou_by_iteration",)
                   for key in records[name]["0"]["metrics"]), f"{name} has no measure of seed_measures recorded"
