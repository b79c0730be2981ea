"""Training and evaluation end to end on the CPU: the loss falls, the checkpoint reloads to identical outputs."""

import json
import shutil

import pytest
import torch

from utils import evaluate
from utils.data import Shapes
from utils.models import ZOO
from utils.zoo import checkpoints, scoring
from utils.zoo import training as train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    weights = tmp_path_factory.mktemp("weights")
    shutil.copy(checkpoints.MANIFEST, weights / "manifest.json")
    entry = train.train("patchnet", device="cpu", seed=3, steps=60, progress=False, weights_dir=weights,
                        evaluation={"split": "val", "seed": 0, "length": 8})
    return weights, entry


def test_loss_goes_down_and_the_entry_is_complete(trained):
    _, entry = trained
    assert entry["steps"] == 60 and entry["seed"] == 3 and entry["device"].startswith("cpu")
    assert entry["final_loss"] < 1.0  # cross-entropy over 6 classes starts at log(6) = 1.79
    assert set(entry["metrics"]) >= {"miou", "pixel_accuracy", "iou_per_class", "split", "seed", "length"}


def test_fit_reduces_the_loss():
    torch.manual_seed(0)
    model = ZOO["patchnet"].build()
    _, losses = train.fit(model, ZOO["patchnet"], steps=40, seed=0, device=torch.device("cpu"), progress=False)
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5


def test_checkpoint_reloads_to_identical_outputs(trained):
    weights, entry = trained
    model = checkpoints.load("patchnet", weights_dir=weights)
    images, _ = Shapes("val", 2).batch(range(2))
    again = checkpoints.load("patchnet", weights_dir=weights)
    assert torch.equal(model.segment(images), again.segment(images))
    metrics = scoring.evaluate_model(model, split="val", seed=0, length=8)
    assert metrics["miou"] == entry["metrics"]["miou"]
    other = json.loads((weights / "manifest.json").read_text())["models"]
    assert other["fcn8s"] == checkpoints.read_manifest()["fcn8s"], "saving one model must keep the others' entries"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="unknown model"):
        train.train("fcn4s")
    with pytest.raises(ValueError, match="steps"):
        train.train("patchnet", steps=0)
    with pytest.raises(ValueError, match="device"):
        train.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            train.resolve_device("cuda")


def test_evaluate_cli_prints_json(capsys):
    evaluate.main(["fcn8s", "--length", "10", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert set(result["fcn8s"]) == {"miou", "pixel_accuracy", "iou_per_class"}
    assert len(result["fcn8s"]["iou_per_class"]) == 6


def test_evaluate_cli_refuses_unknown_models(capsys):
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["fcn4s"])
    assert exit_info.value.code == 2 and "unknown model" in capsys.readouterr().err


def test_the_learning_curve_averages_windows_of_steps_and_ends_at_the_last_step():
    from utils.zoo.training import loss_curve

    curve = loss_curve([float(i) for i in range(10)], points=3)
    assert curve == [[3, 1.0], [6, 4.0], [9, 7.0], [10, 9.0]]
    assert len(loss_curve([1.0] * 2000)) == 50
