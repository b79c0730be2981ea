"""The zoo's architectures trained and scored on a folder of your own images: ``--data voc:PATH`` (chapter 9).

``python -m utils.train fcn8s --data voc:PATH`` trains the course's FCN-8s on
the ``train`` split of a PASCAL VOC-layout folder (``utils.voc``): the class
count is read from the masks, ``VOID`` pixels are ignored, every step draws
``batch_size`` random images and crops each, jointly with its mask, to a
random square resized to the model's ``image_size`` (torchvision's v2
transforms: the mask by nearest neighbour). It starts from scratch (the
shipped models know our six classes, not yours) and writes to ``runs/`` like
every experiment, with the data and the class count in the manifest entry.
``python -m utils.evaluate fcn8s --data voc:PATH --split val`` scores it on
the split's images resized to the same size. Taught in ``lectures/09_your_own_data``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

from ..data import VOID
from ..metrics import confusion_matrix
from ..models import ZOO, DilatedCNN, FCN8s, FCN16s, FCN32s, MultiscaleCNN
from ..voc import DataFolderError, VOCFolder
from . import checkpoints
from .scoring import summarise
from .training import describe_device, fit, loss_curve, resolve_device

#: The architectures ``--data`` can train, each built for the data's class count.
FOLDER_MODELS: dict[str, Callable[[int], nn.Module]] = {
    "fcn32s": FCN32s, "fcn16s": FCN16s, "fcn8s": FCN8s,
    "wide_singlescale": lambda classes: MultiscaleCNN(classes, levels=1, features=DilatedCNN()),
}
#: The kinds of folder ``--data KIND:PATH`` reads.
KINDS = ("voc",)
#: The share of an image a training crop keeps, at least (then resized to the model's size).
CROP_AREA = (0.3, 1.0)


def parse_data(spec: str) -> tuple[str, Path]:
    """``"voc:PATH"`` -> ``("voc", PATH)``; refuses any other form, naming ``--data``."""
    kind, _, path = spec.partition(":")
    if kind not in KINDS or not path:
        raise DataFolderError(f"--data must be KIND:PATH with KIND one of {KINDS} (e.g. voc:VOCdevkit/VOC2012), "
                              f"got {spec!r}")
    return kind, Path(path)


def open_folder(spec: str, split: str) -> VOCFolder:
    """The ``split`` of the folder ``--data`` names."""
    _, path = parse_data(spec)
    return VOCFolder(path, split)


def check_model(name: str) -> None:
    """Refuse a model ``--data`` cannot train, saying which can."""
    if name not in FOLDER_MODELS:
        raise DataFolderError(f"--data trains one of {', '.join(FOLDER_MODELS)}, not {name}")


class FolderBatches(Dataset):
    """Batch ``i``: ``batch_size`` random images of ``data``, each cropped jointly with its mask to ``image_size``.

    A pure function of ``(seed, i)``, like the zoo's other training streams.
    """

    def __init__(self, data: VOCFolder, batch_size: int, image_size: int, steps: int, seed: int) -> None:
        self.data, self.batch_size, self.steps, self.seed = data, batch_size, steps, seed
        self.transform = v2.Compose([v2.RandomResizedCrop(image_size, scale=CROP_AREA, antialias=True),
                                     v2.RandomHorizontalFlip()])

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1_000_003 + index)
            picks = torch.randint(len(self.data), (self.batch_size,)).tolist()
            pairs = [self.transform(tv_tensors.Image(image), tv_tensors.Mask(labels))
                     for image, labels in (self.data[i] for i in picks)]
        return (torch.stack([image.as_subclass(torch.Tensor) for image, _ in pairs]),
                torch.stack([labels.as_subclass(torch.Tensor) for _, labels in pairs]))


def train_on_folder(name: str, data_spec: str, steps: int | None = None, seed: int = 0, device: str = "auto",
                    weights_dir: Path = checkpoints.EXPERIMENTS_DIR, progress: bool = True) -> dict:
    """Train ``name`` from scratch on the folder's ``train`` split, score it on ``val`` if there is one; save it."""
    check_model(name)
    data, spec, torch_device = open_folder(data_spec, "train"), ZOO[name], resolve_device(device)
    steps = spec.steps if steps is None else steps
    if steps < 1:
        raise ValueError(f"steps must be a positive number of optimisation steps, got {steps}")
    torch.manual_seed(seed)
    model = FOLDER_MODELS[name](data.num_classes)
    batches = FolderBatches(data, spec.batch_size, spec.image_size, steps, seed)
    seconds, losses = fit(model, spec, steps, seed, torch_device, progress, batches=batches)
    info = {"description": f"{spec.description}, trained on {data_spec}", "data": data_spec,
            "num_classes": data.num_classes, "device": describe_device(torch_device), "steps": steps,
            "batch_size": spec.batch_size, "lr": spec.lr, "seed": seed, "image_size": spec.image_size,
            "train_seconds": round(seconds, 1), "trained_on": time.strftime("%Y-%m-%d"),
            "final_loss": round(sum(losses[-20:]) / len(losses[-20:]), 4), "loss_curve": loss_curve(losses)}
    if (data.root / "ImageSets" / "Segmentation" / "val.txt").is_file():
        info["metrics"] = {"split": "val", **evaluate_on_folder(model.eval(), data.num_classes, data_spec, "val",
                                                                 spec.image_size)}
    weights_dir.mkdir(parents=True, exist_ok=True)
    return checkpoints.save(name, model.cpu(), info, weights_dir)


def load_folder_model(name: str, weights_dir: Path = checkpoints.EXPERIMENTS_DIR) -> tuple[nn.Module, int]:
    """A model ``train_on_folder`` saved in ``weights_dir`` (eval mode), and the class count it was built for."""
    check_model(name)
    entry = checkpoints.read_manifest(weights_dir / checkpoints.MANIFEST.name).get(name)
    if entry is None or "num_classes" not in entry:
        raise DataFolderError(f"{weights_dir}: no {name} trained with --data here; train it with "
                              f"`python -m utils.train {name} --data voc:PATH`")
    if problem := checkpoints.file_problem(entry, weights_dir):
        raise DataFolderError(f"{name} in {weights_dir}: {problem}; train it again")
    model = FOLDER_MODELS[name](entry["num_classes"])
    model.load_state_dict(load_file(str(weights_dir / entry["file"])))
    return model.eval(), entry["num_classes"]


@torch.no_grad()
def evaluate_on_folder(model: nn.Module, classes: int, data_spec: str, split: str, image_size: int) -> dict:
    """mIoU, pixel accuracy and per-class IoU of ``model`` (``classes`` outputs) on ``split``, resized to ``image_size``."""
    data = open_folder(data_spec, split)
    resize = v2.Resize((image_size, image_size), antialias=True)
    total = torch.zeros(classes, classes, dtype=torch.int64)
    device = next(model.parameters()).device
    for index in range(len(data)):
        image, labels = resize(*(kind(x) for kind, x in zip((tv_tensors.Image, tv_tensors.Mask), data[index])))
        labels = labels.as_subclass(torch.Tensor)
        prediction = model.segment(image.as_subclass(torch.Tensor)[None].to(device)).argmax(1)[0].cpu()
        try:
            total += confusion_matrix(prediction, labels, classes, ignore_index=VOID)
        except ValueError as err:
            raise DataFolderError(f"{data.paths(data.names[index])[1]}: {err}; the model knows {classes} classes")
    return summarise(total)
