"""Shipped weights: ``utils/weights/NAME.safetensors`` plus ``utils/weights/manifest.json``.

The manifest records, for every model, the file's sha256, its parameter count,
how and where it was trained and its test metrics. ``load`` refuses any file
that does not match its manifest entry and says how to retrain it; nothing ever
falls back to random weights. The model card (``book/model_card.md``) is drawn
from the manifest. Every chapter from chapter 2 on loads its models with
``load_shared``; the README's "Retraining the demo models" explains the rest.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..models import ZOO, FrozenTrunk

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
MANIFEST = WEIGHTS_DIR / "manifest.json"
#: Where runs that depart from the zoo's recipe go unless told otherwise (ignored by git).
EXPERIMENTS_DIR = Path("runs")


class CheckpointError(RuntimeError):
    """A shipped model cannot be loaded as recorded in the manifest."""


def retrain_command(name: str) -> str:
    """The exact command that retrains ``name`` and rewrites its weights and manifest entry."""
    return f"python -m utils.train {name}"


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_manifest(path: Path = MANIFEST) -> dict[str, dict]:
    """``{name: entry}`` from the manifest; an empty dict if there is none yet."""
    if not path.exists():
        return {}
    return json.loads(path.read_text())["models"]


def write_entry(name: str, entry: dict, path: Path = MANIFEST) -> None:
    """Add or replace ``name``'s entry, keeping the others; names sorted for stable diffs."""
    models = read_manifest(path)
    models[name] = entry
    path.write_text(json.dumps({"models": dict(sorted(models.items()))}, indent=2) + "\n")


def unknown_names(names: list[str], known: list[str] | None = None) -> str:
    """The one message for names that are not models (or methods) of ``known`` (the zoo by default)."""
    return f"unknown model(s) {', '.join(names)}; choose from: {', '.join(known or ZOO)}"


def check_name(name: str) -> None:
    """Raise ``ValueError`` (``unknown_names``) unless ``name`` is a zoo model."""
    if name not in ZOO:
        raise ValueError(unknown_names([name]))


def file_problem(entry: dict, weights_dir: Path) -> str | None:
    """What is wrong with a manifest ``entry``'s weights file in ``weights_dir`` (missing, changed), or ``None``.

    The one definition of "a file matches its manifest", for loading and for
    unpacking an archive from another machine.
    """
    path = Path(weights_dir) / entry["file"]
    if not path.exists():
        return f"weights file {path} is missing"
    actual = sha256(path)
    if actual != entry["sha256"]:
        return (f"weights file {path} does not match the manifest (sha256 {actual[:12]}... "
                f"!= recorded {entry['sha256'][:12]}...): it is corrupt or was changed")
    return None


def source_dir(name: str, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Where ``name``'s weights come from when a model in ``weights_dir`` depends on them.

    ``weights_dir`` itself if it holds ``name`` (a whole zoo retrained there),
    else the shipped weights (an experiment that retrains one model only).
    """
    return weights_dir if name in read_manifest(Path(weights_dir) / MANIFEST.name) else WEIGHTS_DIR


def build(name: str, weights_dir: Path = WEIGHTS_DIR) -> nn.Module:
    """A fresh ``name`` as ``ZOO`` defines it; a model with a trunk gets the trunk's weights (``source_dir``)."""
    check_name(name)
    spec = ZOO[name]
    if spec.trunk is None:
        return spec.build()
    return spec.build(FrozenTrunk(load(spec.trunk, weights_dir=source_dir(spec.trunk, weights_dir))))


def is_trunk_key(key: str) -> bool:
    """Whether a state-dict key belongs to a frozen ``trunk`` submodule (stored once, in the trunk's own file)."""
    return "trunk" in key.split(".")


def own_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """``model``'s state dict without its frozen trunk: what its weights file holds."""
    return {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if not is_trunk_key(k)}


def save(name: str, model: nn.Module, info: dict, weights_dir: Path = WEIGHTS_DIR) -> dict:
    """Write ``model``'s weights as ``NAME.safetensors`` and its manifest entry; returns the entry.

    ``info`` holds how it was trained (device, steps, seed, seconds, metrics...);
    the file name, hash and parameter count (trained parameters: a frozen
    trunk, or frozen layers copied from another model, excluded) are added here, and for a model with a trunk the sha256 of
    the trunk weights it was trained on.
    """
    check_name(name)
    path = weights_dir / f"{name}.safetensors"
    state = own_state(model)
    save_file(state, str(path))
    entry = {
        "file": path.name,
        "sha256": sha256(path),
        "parameters": sum(v.numel() for k, v in model.named_parameters() if v.requires_grad and not is_trunk_key(k)),
        "torch": torch.__version__,
        **info,
    }
    trunk = ZOO[name].trunk
    if trunk:
        entry["trunk"] = {"name": trunk, "sha256": read_manifest(source_dir(trunk, weights_dir) / MANIFEST.name)[trunk]["sha256"]}
    write_entry(name, entry, weights_dir / MANIFEST.name)
    return entry


def load(name: str, device: str | torch.device = "cpu", weights_dir: Path = WEIGHTS_DIR) -> nn.Module:
    """The shipped model ``name`` in eval mode on ``device``, after checking its sha256.

    Raises ``ValueError`` for a name not in the zoo and ``CheckpointError``
    (saying what is wrong and how to retrain) for a missing entry or file, a
    hash that does not match, or weights that do not fit the architecture.
    """
    check_name(name)
    fix = (f"Restore the shipped weights with `git checkout utils/weights`, or retrain with "
           f"`{retrain_command(name)}` (see README, 'Retraining the demo models').")
    entry = read_manifest(weights_dir / MANIFEST.name).get(name)
    if entry is None:
        raise CheckpointError(f"{name} has no entry in {MANIFEST.name}. {fix}")
    problem = file_problem(entry, weights_dir)
    if problem:
        raise CheckpointError(f"{name}: {problem}. {fix}")
    path = weights_dir / entry["file"]
    _check_trunk(name, entry, weights_dir, fix)
    model = build(name, weights_dir)
    try:
        missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    except RuntimeError as err:
        raise CheckpointError(f"weights in {path} do not fit the {name} architecture ({err}). {fix}") from err
    missing = [k for k in missing if not is_trunk_key(k)]
    if missing or unexpected:
        raise CheckpointError(f"weights in {path} do not fit the {name} architecture (missing {missing[:3]}, "
                              f"unexpected {unexpected[:3]}). {fix}")
    return model.to(device).eval()


def _check_trunk(name: str, entry: dict, weights_dir: Path, fix: str) -> None:
    """Refuse a model whose frozen trunk has changed since it was trained: its heads would read other features."""
    recorded = entry.get("trunk")
    if not recorded:
        return
    current = read_manifest(source_dir(recorded["name"], weights_dir) / MANIFEST.name).get(recorded["name"], {}).get("sha256")
    if current != recorded["sha256"]:
        raise CheckpointError(f"{name} was trained on other {recorded['name']} weights than the shipped ones "
                              f"(sha256 {recorded['sha256'][:12]}... != {str(current)[:12]}...). {fix}")


@functools.lru_cache(maxsize=None)
def load_shared(name: str) -> nn.Module:
    """``load(name)`` on the CPU, once per process: the chapters' figures and widgets redraw with it.

    The model is shared, so callers must not train or modify it.
    """
    return load(name)
