"""Move a retrained zoo between machines: ``python -m utils.zoo.archive pack|unpack ARCHIVE``.

``pack`` writes every weights file named in a manifest, and the manifest, into
one ``.tar.gz`` (what a GPU machine sends back). ``unpack`` reads such an
archive, refuses it unless every file matches the sha256 its manifest records,
and only then replaces the weights here (and the training seeds' records,
``seeds.json``, when the archive carries them); the chapters' checked outputs are
refreshed afterwards with ``python -m tests.notebook_outputs`` (``make
refresh-outputs``). Used by ``make train-gpu`` and ``make unpack-zoo``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from .checkpoints import MANIFEST, WEIGHTS_DIR, file_problem, read_manifest


def pack(archive: Path, weights_dir: Path = WEIGHTS_DIR, extra: tuple[Path, ...] = ()) -> list[str]:
    """Write ``weights_dir``'s manifest, the files it names and ``extra`` files into ``archive``; returns the names."""
    manifest = read_manifest(weights_dir / MANIFEST.name)
    if not manifest:
        raise ValueError(f"weights_dir {weights_dir} has no manifest to pack")
    names = [MANIFEST.name, *(entry["file"] for entry in manifest.values())]
    with tarfile.open(archive, "w:gz") as tar:
        for name in names:
            tar.add(weights_dir / name, arcname=f"weights/{name}")
        for path in extra:
            tar.add(path, arcname=f"extra/{path.name}")
    return names


def verify(weights: Path) -> dict[str, dict]:
    """The manifest in folder ``weights``, after checking that every file it names matches it (``file_problem``)."""
    manifest = read_manifest(weights / MANIFEST.name)
    if not manifest:
        raise ValueError(f"the archive holds no weights/{MANIFEST.name}")
    for name, entry in manifest.items():
        problem = file_problem(entry, weights)
        if problem:
            raise ValueError(f"{name} in the archive: {problem}")
    return manifest


def unpack(archive: Path, weights_dir: Path = WEIGHTS_DIR) -> dict[str, dict]:
    """Check every file of ``archive`` against its manifest, then copy them into ``weights_dir``; returns the manifest."""
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(scratch, filter="data")
        weights = Path(scratch) / "weights"
        manifest = verify(weights)
        for entry in manifest.values():
            shutil.copy(weights / entry["file"], weights_dir / entry["file"])
        shutil.copy(weights / MANIFEST.name, weights_dir / MANIFEST.name)
        seeds = Path(scratch) / "extra" / "seeds.json"
        if seeds.exists():
            shutil.copy(seeds, weights_dir / seeds.name)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m utils.zoo.archive", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["pack", "unpack"])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--weights-dir", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--extra", type=Path, nargs="*", default=[], help="files packed beside the weights")
    args = parser.parse_args(argv)
    try:
        if args.action == "pack":
            names = pack(args.archive, args.weights_dir, tuple(args.extra))
            print(f"packed {len(names)} files into {args.archive}")
        else:
            manifest = unpack(args.archive, args.weights_dir)
            devices = sorted({entry["device"] for entry in manifest.values()})
            print(f"unpacked {len(manifest)} models into {args.weights_dir}, every sha256 checked; "
                  f"trained on: {', '.join(devices)}")
    except (ValueError, OSError, tarfile.TarError) as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from err


if __name__ == "__main__":
    main()
