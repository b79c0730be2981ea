"""Shipped weights: the manifest and the files agree, tampering is refused, nothing falls back to random weights."""

import json
import shutil

import pytest
import torch

from utils.models import ZOO
from utils.zoo import checkpoints


@pytest.fixture
def weights_copy(tmp_path):
    """A private copy of utils/weights to tamper with."""
    target = tmp_path / "weights"
    shutil.copytree(checkpoints.WEIGHTS_DIR, target)
    return target


def test_every_zoo_model_is_shipped_and_matches_its_manifest_entry():
    manifest = checkpoints.read_manifest()
    assert set(manifest) == set(ZOO)
    for name, entry in manifest.items():
        path = checkpoints.WEIGHTS_DIR / entry["file"]
        assert path.suffix == ".safetensors"
        assert checkpoints.sha256(path) == entry["sha256"], name
        model = checkpoints.load(name)
        own = sum(p.numel() for key, p in model.named_parameters() if p.requires_grad and not checkpoints.is_trunk_key(key))
        assert own == entry["parameters"], name
        for key in ("device", "steps", "seed", "train_seconds", "torch", "metrics", "batch_size"):
            assert key in entry, f"{name} lacks {key}"


def test_loaded_models_are_in_eval_mode_with_the_file_weights():
    model = checkpoints.load("fcn8s")
    assert not model.training
    assert not torch.equal(model.head.score_fr.weight, ZOO["fcn8s"].build().head.score_fr.weight)


def test_a_tampered_file_is_refused_with_the_retrain_command(weights_copy):
    path = weights_copy / "fcn8s.safetensors"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(checkpoints.CheckpointError, match=r"does not match the manifest.*python -m utils\.train fcn8s"):
        checkpoints.load("fcn8s", weights_dir=weights_copy)


def test_a_missing_file_is_refused(weights_copy):
    (weights_copy / "fcn16s.safetensors").unlink()
    with pytest.raises(checkpoints.CheckpointError, match=r"missing.*python -m utils\.train fcn16s"):
        checkpoints.load("fcn16s", weights_dir=weights_copy)


def test_a_missing_manifest_entry_is_refused(weights_copy):
    manifest = weights_copy / "manifest.json"
    models = json.loads(manifest.read_text())["models"]
    del models["patchnet"]
    manifest.write_text(json.dumps({"models": models}))
    with pytest.raises(checkpoints.CheckpointError, match=r"no entry.*python -m utils\.train patchnet"):
        checkpoints.load("patchnet", weights_dir=weights_copy)


def test_weights_of_another_architecture_are_refused(weights_copy):
    # Put fcn32s's weights (and their true hash) where fcn8s is expected: the hash passes, the shapes do not.
    manifest = weights_copy / "manifest.json"
    models = json.loads(manifest.read_text())["models"]
    shutil.copy(weights_copy / "fcn32s.safetensors", weights_copy / "fcn8s.safetensors")
    models["fcn8s"]["sha256"] = models["fcn32s"]["sha256"]
    manifest.write_text(json.dumps({"models": models}))
    with pytest.raises(checkpoints.CheckpointError, match="do not fit the fcn8s architecture"):
        checkpoints.load("fcn8s", weights_dir=weights_copy)


def test_unknown_names_are_refused_with_the_zoo_listed():
    with pytest.raises(ValueError, match="choose from: patchnet"):
        checkpoints.load("fcn4s")


def test_a_head_is_stored_without_its_frozen_trunk_and_refused_if_the_trunk_changed(tmp_path):
    from safetensors.torch import load_file

    manifest = checkpoints.read_manifest()
    entry = manifest["hypercolumn"]
    assert entry["trunk"]["name"] == "fcn8s" and entry["trunk"]["sha256"] == manifest["fcn8s"]["sha256"]
    assert not any(checkpoints.is_trunk_key(k) for k in load_file(str(checkpoints.WEIGHTS_DIR / entry["file"])))
    for name in ("hypercolumn", "fcn8s"):
        shutil.copy(checkpoints.WEIGHTS_DIR / manifest[name]["file"], tmp_path / manifest[name]["file"])
    changed = {**manifest["fcn8s"], "sha256": "0" * 64}
    (tmp_path / "manifest.json").write_text(json.dumps({"models": {"hypercolumn": entry, "fcn8s": changed}}))
    with pytest.raises(checkpoints.CheckpointError, match="other fcn8s weights"):
        checkpoints.load("hypercolumn", weights_dir=tmp_path)
