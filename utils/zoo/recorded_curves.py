"""Learning curves for shipped weights trained before curves were kept: retrain, check bit for bit, record.

Training on a CPU is deterministic for a given seed, torch version, number
of threads and CPU, so retraining a shipped model with its recorded recipe
reproduces its weights exactly, and the run's loss curve is then the shipped
model's own. ``python -m utils.zoo.recorded_curves NAME...`` retrains each
into a scratch folder with the thread count its manifest records, and writes
the curve into the manifest as the model's own (``loss_curve``) only when the
retrained weights' SHA-256 equals the shipped file's. Otherwise (another
CPU's kernels, say) the run is a sibling of the shipped one: its curve is
kept apart, as ``retrained_curve`` with why (``retrained_curve_why``), and
the model card draws it as a retraining's, never as the shipped run's. Used
by the model card, which draws the curves of every chapter's models.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from .checkpoints import MANIFEST, read_manifest, unknown_names, write_entry
from .training import train


def recorded_threads(entry: dict) -> int:
    """The CPU threads a manifest entry was trained with (``cpu: x86_64, 2 threads`` -> 2); refuses a GPU run."""
    device = entry["device"]
    if not device.startswith("cpu: ") or not device.endswith(" threads"):
        raise ValueError(f"device: only CPU runs retrain bit for bit here; {entry.get('file')} was trained on {device}")
    return int(device.rpartition(", ")[2].removesuffix(" threads"))


def record_curve(name: str, scratch: Path, manifest: Path = MANIFEST) -> str:
    """Retrain ``name`` as shipped into ``scratch``; write its loss curve as the model's own only if bit-identical.

    Returns one line saying what happened. A model that starts from another
    reads that model's shipped weights (``checkpoints.source_dir``), as its shipped run did.
    """
    entry = read_manifest(manifest)[name]
    if entry.get("loss_curve") or entry.get("retrained_curve"):
        return f"{name}: already has its curve"
    threads = torch.get_num_threads()
    torch.set_num_threads(recorded_threads(entry))  # another thread count sums in another order: other weights
    try:
        retrained = train(name, "cpu", entry["seed"], entry["steps"], weights_dir=scratch)
    finally:
        torch.set_num_threads(threads)
    if retrained["sha256"] != entry["sha256"]:
        why = (f"retrained weights differ from the shipped ones (torch {torch.__version__}, {recorded_threads(entry)} "
               f"threads; shipped: torch {entry['torch']}, {entry['device']}): final loss {retrained['final_loss']} "
               f"against the shipped run's {entry['final_loss']}")
        write_entry(name, {**entry, "retrained_curve": retrained["loss_curve"], "retrained_curve_why": why}, manifest)
        return f"{name}: {why}; kept as a retraining's curve, not the shipped run's"
    write_entry(name, {**entry, "loss_curve": retrained["loss_curve"],
                       "loss_curve_recorded": "by a retraining that reproduced the shipped weights bit for bit"}, manifest)
    return f"{name}: curve recorded (retrained weights identical to the shipped ones)"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m utils.zoo.recorded_curves", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="shipped models whose manifest entry has no loss_curve")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in read_manifest()]
    if unknown:
        parser.error(unknown_names(unknown, list(read_manifest())))
    for name in args.names:
        with tempfile.TemporaryDirectory() as scratch:
            try:
                print(record_curve(name, Path(scratch)))
            except ValueError as error:
                parser.error(str(error))


if __name__ == "__main__":
    main()
