"""The shipped models reproduce their manifest metrics, and the FCN family keeps the paper's ordering."""

import pytest

from utils import checkpoints, evaluate
from utils.models import ZOO

MANIFEST = checkpoints.read_manifest()


@pytest.mark.parametrize("name", [n for n in ZOO if n != "patchnet"])
def test_fcn_reproduces_its_manifest_metrics(name):
    recorded = MANIFEST[name]["metrics"]
    measured = evaluate.evaluate_model(checkpoints.load(name), recorded["split"], recorded["seed"],
                                       recorded["length"], ZOO[name].image_size)
    assert measured["miou"] == pytest.approx(recorded["miou"], abs=1e-4)
    assert measured["pixel_accuracy"] == pytest.approx(recorded["pixel_accuracy"], abs=1e-4)


def test_patchnet_reproduces_its_manifest_metrics_on_a_prefix():
    # Every pixel through 16 dense passes is slow on a CPU: re-check the first 100 of the recorded scenes.
    recorded = MANIFEST["patchnet"]["metrics"]
    measured = evaluate.evaluate_model(checkpoints.load("patchnet"), recorded["split"], recorded["seed"], 100)
    assert abs(measured["miou"] - recorded["miou"]) < 0.03


def test_fcn_family_ordering_on_an_unseen_seed():
    """mIoU(32s) + 0.02 <= mIoU(16s) <= mIoU(8s) + 0.005, and 8s >= 0.80, on test scenes no run has used."""
    miou = {name: evaluate.evaluate_model(checkpoints.load(name), "test", 20261124, 300, ZOO[name].image_size)["miou"]
            for name in ("fcn32s", "fcn16s", "fcn8s")}
    assert miou["fcn32s"] + 0.02 <= miou["fcn16s"] <= miou["fcn8s"] + 0.005, miou
    assert miou["fcn8s"] >= 0.80, miou
