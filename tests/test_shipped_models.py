"""The shipped models reproduce their manifest metrics, and every chapter's claims hold on scenes no run has used."""

import pytest
import torch

from utils.models.recurrent import second_pass_on_other_labels
from utils.data import DISTRIBUTIONS, NUM_CLASSES, Shapes
from utils.metrics import mean_iou
from utils.models import ZOO
from utils.zoo import checkpoints, scoring
from utils.zoo.classification import classification_metrics, scene_results
from utils.zoo.instances import instance_metrics

MANIFEST = checkpoints.read_manifest()
SEMANTIC = [n for n in ZOO if "miou" in MANIFEST.get(n, {}).get("metrics", {}) and n != "patchnet"]
UNSEEN = 20261124


@pytest.mark.parametrize("name", SEMANTIC)
def test_semantic_model_reproduces_its_manifest_metrics(name):
    recorded = MANIFEST[name]["metrics"]
    spec = ZOO[name]
    measured = scoring.evaluate_model(checkpoints.load(name), recorded["split"], recorded["seed"], recorded["length"],
                                       spec.image_size, DISTRIBUTIONS[spec.test_scenes or spec.scenes])
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


def test_chapter3_orderings_on_an_unseen_seed():
    """The pyramid beats the single scale and each coarse level alone; the dilated control beats the pyramid."""
    scores = {name: miou(name) for name in ("singlescale", "half_only", "quarter_only", "multiscale", "wide_singlescale")}
    assert scores["multiscale"] >= scores["singlescale"] + 0.10, scores
    assert scores["multiscale"] > max(scores["half_only"], scores["quarter_only"]), scores
    assert scores["wide_singlescale"] > scores["multiscale"], scores


def test_chapter4_controls_on_an_unseen_seed():
    """Untied passes beat tied ones; pass 2 needs its own labels; a last-pass-only loss leaves pass 1 useless."""
    images, semantic = Shapes("test", 200, seed=UNSEEN).batch(range(200))

    def score(scores):
        return mean_iou(scores.argmax(1), semantic, NUM_CLASSES)

    with torch.no_grad():
        tied = checkpoints.load("recurrent")(images)
        untied = checkpoints.load("recurrent_untied")(images)[-1]
        other = second_pass_on_other_labels(checkpoints.load("recurrent"), images)
        last_loss_first = checkpoints.load("recurrent_last_loss")(images, 1)[0]
    assert score(untied) > score(tied[-1]) + 0.05
    assert score(tied[1]) > score(other) + 0.1
    assert score(last_loss_first) < score(tied[0]) - 0.1


def test_refinement_gain_on_an_unseen_seed():
    by_pass = scoring.refinement_metrics(checkpoints.load("recurrent"), "test", UNSEEN, 300)["miou_by_iteration"]
    assert by_pass[1] > by_pass[0] and by_pass[2] >= by_pass[1] - 0.005 and by_pass[2] >= by_pass[0] + 0.03, by_pass


def test_instance_orderings_on_an_unseen_seed():
    """Chapter 7's stated orderings, re-measured on scenes of each kind no run has used."""
    methods = ("connected_components", "sds_box", "sds_region", "sds", "last_layer", "hypercolumn", "maskrcnn")
    ap = instance_metrics(methods, "test", UNSEEN, 60, workers=scoring.instance_workers())
    crowded = instance_metrics(("connected_components", "maskrcnn"), "test", UNSEEN, 40,
                               workers=scoring.instance_workers(), crowded=1.0)
    assert crowded["maskrcnn"]["ap50"] > crowded["connected_components"]["ap50"] + 0.3, crowded  # 7.1
    assert ap["sds"]["ap50"] > max(ap["sds_box"]["ap50"], ap["sds_region"]["ap50"]), ap  # 7.3: both beat each
    gap50 = ap["hypercolumn"]["ap50"] - ap["last_layer"]["ap50"]
    gap75 = ap["hypercolumn"]["ap75"] - ap["last_layer"]["ap75"]
    assert gap75 > gap50, ap  # 7.4: the gap widens at strict IoU
    assert ap["hypercolumn"]["ap50"] >= ap["sds"]["ap50"], ap  # 7.4: hypercolumn refinement does not lose
    assert ap["maskrcnn"]["ap50"] > ap["hypercolumn"]["ap50"], ap  # 7.5


SAME_BUDGET = [("singlescale", "multiscale"), ("multiscale", "half_only"), ("multiscale", "quarter_only"),
               ("multiscale", "wide_singlescale"), ("multiscale", "multiscale_dropout"), ("multiscale", "recurrent"),
               ("recurrent", "recurrent_one_pass"), ("recurrent", "recurrent_untied"),
               ("recurrent", "recurrent_last_loss"), ("recurrent", "recurrent_detached"), ("last_layer", "hypercolumn"),
               ("sds", "cfm"), ("small_plain", "small_augmented"), ("rare_ce", "rare_weighted"),
               ("rare_ce", "rare_dice"), ("rare_ce", "rare_focal")]


@pytest.mark.parametrize("pair", SAME_BUDGET, ids="-".join)
def test_compared_models_had_the_same_training(pair):
    """Chapters 3, 4, 7 and 9 compare these pairs as 'trained the same way': same steps, batches, rate, seed, device."""
    first, second = (MANIFEST[name] for name in pair)
    for key in ("steps", "batch_size", "lr", "seed", "image_size", "device", "init_from"):
        assert first[key] == second[key], key


CLASSIFIERS = [n for n in ZOO if ZOO[n].task == "classify" and n in MANIFEST]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classifier_reproduces_its_manifest_metrics(name):
    recorded = MANIFEST[name]["metrics"]
    measured = classification_metrics(checkpoints.load(name), recorded["split"], recorded["seed"], recorded["length"])
    for key, value in measured.items():
        assert value == pytest.approx(recorded[key], abs=1e-4), key


def test_chapter8_orderings_on_an_unseen_seed():
    """The glimpse beats the resized scene and trails the full one; attention lands on the target; glimpses narrowed."""
    results = {name: scene_results(checkpoints.load(name), "test", UNSEEN, 1000)
               for name in ("downsampled", "glimpse", "avgpool", "attention")}
    accuracy = {name: r["correct"].float().mean().item() for name, r in results.items()}
    assert accuracy["downsampled"] < accuracy["glimpse"] < accuracy["avgpool"], accuracy
    attention = results["attention"]
    assert attention["mass"].mean() > 3 * attention["cover"].mean()
    assert attention["pointing"].float().mean() > 2 * attention["pointing_chance"].mean()
    torch.manual_seed(0)
    fresh = scene_results(ZOO["glimpse"].build(), "test", UNSEEN, 1000)
    assert results["glimpse"]["box_iou"].mean() > fresh["box_iou"].mean() + 0.02


def test_chapter9_orderings_on_an_unseen_seed():
    """Augmentation helps on large objects; class weights and soft Dice raise the rare cross's IoU over cross-entropy.

    Focal loss is left out: at chapter 9's budget its effect on the cross is inside the noise of training seeds.
    """
    from utils.data import LARGE_OBJECTS, RARE_CROSSES
    from utils.metrics import iou_per_class

    def scores(name, distribution):
        images, semantic = Shapes("test", 300, seed=UNSEEN, distribution=distribution).batch(range(300))
        with torch.no_grad():
            predicted = checkpoints.load(name)(images).argmax(1)
        return iou_per_class(predicted, semantic, NUM_CLASSES, ignore_index=255)

    assert scores("small_augmented", LARGE_OBJECTS).nanmean() > scores("small_plain", LARGE_OBJECTS).nanmean() + 0.03
    cross = {name: scores(name, RARE_CROSSES)[4].item() for name in ("rare_ce", "rare_weighted", "rare_dice")}
    assert cross["rare_dice"] > cross["rare_ce"] + 0.2 and cross["rare_weighted"] > cross["rare_ce"] + 0.1, cross
