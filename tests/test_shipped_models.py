"""The shipped models reproduce their manifest metrics, and every chapter's claims hold on scenes no run has used."""

import pytest

from utils.models import ZOO
from utils.zoo import checkpoints, scoring
from utils.zoo.instances import instance_metrics

MANIFEST = checkpoints.read_manifest()
SEMANTIC = [n for n in ZOO if "miou" in MANIFEST.get(n, {}).get("metrics", {}) and n != "patchnet"]
UNSEEN = 20261124


@pytest.mark.parametrize("name", SEMANTIC)
def test_semantic_model_reproduces_its_manifest_metrics(name):
    recorded = MANIFEST[name]["metrics"]
    measured = scoring.evaluate_model(checkpoints.load(name), recorded["split"], recorded["seed"],
                                       recorded["length"], ZOO[name].image_size)
    assert measured["miou"] == pytest.approx(recorded["miou"], abs=1e-4)
    assert measured["pixel_accuracy"] == pytest.approx(recorded["pixel_accuracy"], abs=1e-4)


def test_patchnet_reproduces_its_manifest_metrics_on_a_prefix():
    # Every pixel through 16 dense passes is slow on a CPU: re-check the first 100 of the recorded scenes.
    recorded = MANIFEST["patchnet"]["metrics"]
    measured = scoring.evaluate_model(checkpoints.load("patchnet"), recorded["split"], recorded["seed"], 100)
    assert abs(measured["miou"] - recorded["miou"]) < 0.03


def miou(name, length=300):
    return scoring.evaluate_model(checkpoints.load(name), "test", UNSEEN, length, ZOO[name].image_size)["miou"]


def test_fcn_family_ordering_on_an_unseen_seed():
    """mIoU(32s) + 0.02 <= mIoU(16s) <= mIoU(8s) + 0.005, 8s >= 0.80, and the skips beat the equal-budget 32s."""
    scores = {name: miou(name) for name in ("fcn32s", "fcn16s", "fcn8s", "fcn32s_long")}
    assert scores["fcn32s"] + 0.02 <= scores["fcn16s"] <= scores["fcn8s"] + 0.005, scores
    assert scores["fcn8s"] >= 0.80 and scores["fcn8s"] > scores["fcn32s_long"], scores


def test_multiscale_gain_on_an_unseen_seed():
    assert miou("multiscale") >= miou("singlescale") + 0.10


def test_refinement_gain_on_an_unseen_seed():
    by_pass = scoring.refinement_metrics(checkpoints.load("recurrent"), "test", UNSEEN, 300)["miou_by_iteration"]
    assert by_pass[1] > by_pass[0] and by_pass[2] >= by_pass[1] - 0.005 and by_pass[2] >= by_pass[0] + 0.03, by_pass


def test_instance_orderings_on_an_unseen_seed():
    """Chapter 7's claims, re-measured on 60 scenes no run has used."""
    ap = instance_metrics(("connected_components", "sds_box", "sds", "last_layer", "hypercolumn", "maskrcnn"),
                          "test", UNSEEN, 60, workers=scoring.instance_workers())
    assert ap["sds"]["ap50"] >= ap["sds_box"]["ap50"], ap
    gap50 = ap["hypercolumn"]["ap50"] - ap["last_layer"]["ap50"]
    gap75 = ap["hypercolumn"]["ap75"] - ap["last_layer"]["ap75"]
    assert gap50 > 0 and gap75 > gap50, ap
    assert ap["hypercolumn"]["ap50"] > ap["sds"]["ap50"], ap  # refinement with fine features raises mask AP
    assert ap["maskrcnn"]["ap50"] >= 0.5 and ap["maskrcnn"]["ap50"] > ap["connected_components"]["ap50"], ap


@pytest.mark.parametrize("pair", [("singlescale", "multiscale"), ("last_layer", "hypercolumn")])
def test_compared_models_had_the_same_training(pair):
    """Chapters 3 and 7 compare these pairs as 'trained the same way': same steps, batches, rate, seed, device."""
    first, second = (MANIFEST[name] for name in pair)
    for key in ("steps", "batch_size", "lr", "seed", "image_size", "device", "init_from"):
        assert first[key] == second[key], key
