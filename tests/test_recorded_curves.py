"""Curves for weights trained before curves were kept: written only when a retraining reproduces the weights exactly."""

import json

import pytest

from utils.zoo import recorded_curves

ENTRY = {"file": "recurrent.safetensors", "sha256": "abc", "device": "cpu: x86_64, 2 threads", "seed": 0,
         "steps": 2000, "torch": "2.14.1", "final_loss": 0.3}


def manifest_with(tmp_path, entry):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"models": {"recurrent": entry}}))
    return path


def retrained(sha256):
    return lambda *args, **kwargs: {"sha256": sha256, "loss_curve": [[40, 1.2], [80, 0.9]], "final_loss": 0.31}


def test_the_recorded_thread_count_is_read_and_a_gpu_run_is_refused():
    assert recorded_curves.recorded_threads(ENTRY) == 2
    with pytest.raises(ValueError, match="device: only CPU runs retrain bit for bit"):
        recorded_curves.recorded_threads({**ENTRY, "device": "cuda: NVIDIA H200"})


def test_the_shipped_run_s_curve_is_written_only_when_the_retrained_weights_are_identical(tmp_path, monkeypatch):
    path = manifest_with(tmp_path, ENTRY)
    monkeypatch.setattr(recorded_curves, "train", retrained("different"))
    assert "kept as a retraining's curve" in recorded_curves.record_curve("recurrent", tmp_path, path)
    entry = json.loads(path.read_text())["models"]["recurrent"]
    assert "loss_curve" not in entry, "a curve of other weights is never the shipped run's"
    assert entry["retrained_curve"] == [[40, 1.2], [80, 0.9]] and "final loss 0.31" in entry["retrained_curve_why"]
    path = manifest_with(tmp_path, ENTRY)
    monkeypatch.setattr(recorded_curves, "train", retrained("abc"))
    assert "curve recorded" in recorded_curves.record_curve("recurrent", tmp_path, path)
    entry = json.loads(path.read_text())["models"]["recurrent"]
    assert entry["loss_curve"] == [[40, 1.2], [80, 0.9]] and "bit for bit" in entry["loss_curve_recorded"]
    assert "already has its curve" in recorded_curves.record_curve("recurrent", tmp_path, path)
