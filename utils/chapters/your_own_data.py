"""Chapter 9's pictures and measurements: folders on disk, joint augmentation, rare classes, mIoU done right.

The formats themselves are ``utils.voc`` and ``utils.coco``, the augmentation
``utils.augment``, the losses ``utils.imbalance``, training on a folder
``utils.zoo.folders``. Used by ``lectures/09_your_own_data``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from torchvision import tv_tensors
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import functional as TF

from .. import viz
from ..augment import invented_labels, joint_augmentation
from ..bootstrap import scene_confusions
from ..coco import polygon_round_trip, write_coco
from ..data import CLASS_NAMES, DISTRIBUTIONS, NUM_CLASSES, RARE_CROSSES, VOID, Shapes
from ..metrics import iou_from_confusion
from ..voc import write_voc
from ..zoo.checkpoints import load_shared
from ..zoo.inference import predict

#: Test scenes every comparison of the chapter is scored on (seed 0 of the test split).
TEST_SCENES = 500
#: The rare class of ``RARE_CROSSES``.
RARE_CLASS = CLASS_NAMES.index("cross")
#: Scenes the widget can show, and the scenes written to disk in section 9.1 (train, then val).
WIDGET_SCENES = 12
FOLDER_SPLITS = {"train": range(0, 48), "val": range(48, 64)}
#: The models compared in sections 9.2 and 9.3, by the label the chapter gives them.
AUGMENTATION = {"no augmentation": "small_plain", "joint augmentation": "small_augmented"}
LOSSES = {"cross-entropy": "rare_ce", "weighted cross-entropy": "rare_weighted", "soft Dice": "rare_dice",
          "focal": "rare_focal"}


def write_example_folders(root: Path) -> dict[str, Path]:
    """Rare-cross training scenes written into ``root`` as a VOC folder and as COCO: ``{"voc": ..., "coco": ...}``.

    The VOC folder sits at ``root/VOCdevkit/VOC2012``, where
    ``torchvision.datasets.VOCSegmentation(root, year="2012")`` looks.
    """
    data = Shapes("train", FOLDER_SPLITS["val"].stop, distribution=RARE_CROSSES)
    voc = write_voc(data, Path(root) / "VOCdevkit" / "VOC2012", FOLDER_SPLITS)
    coco = write_coco(data, Path(root) / "coco", FOLDER_SPLITS["train"])
    return {"voc": voc, "coco": coco}


@cache
def test_set(distribution: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The chapter's ``TEST_SCENES`` test images (N, 3, 64, 64) and labels (N, 64, 64) of a named distribution."""
    return Shapes("test", TEST_SCENES, distribution=DISTRIBUTIONS[distribution]).batch(range(TEST_SCENES))


@cache
def confusions(name: str, distribution: str) -> torch.Tensor:
    """(N, C, C) per-scene confusions of shipped model ``name`` on ``test_set(distribution)`` (void left out)."""
    images, labels = test_set(distribution)
    return scene_confusions(predict(load_shared(name), images), labels, NUM_CLASSES)


def class_iou_of(cls: int):
    """A statistic for ``utils.bootstrap``: the IoU of class ``cls`` from summed (N, C, C) confusions."""
    def class_iou(scenes: torch.Tensor) -> float:
        return iou_from_confusion(scenes.sum(0))[cls].item()
    class_iou.__name__ = f"iou_of_{CLASS_NAMES[cls]}"
    return class_iou


def batch_averaged_miou(scenes: torch.Tensor, batch_size: int) -> float:
    """The pitfall: mIoU computed on each batch of ``batch_size`` scenes, then averaged over batches."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive number of scenes, got {batch_size}")
    return float(np.mean([iou_from_confusion(scenes[i:i + batch_size].sum(0)).nanmean().item()
                          for i in range(0, len(scenes), batch_size)]))


def void_as_background(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The pitfall: (N, C, C) confusions with ``VOID`` pixels scored as if they were background."""
    return scene_confusions(predictions, labels.where(labels != VOID, 0), NUM_CLASSES)


def augmented_pair(image: torch.Tensor, labels: torch.Tensor, angle: float, zoom: float,
                   mask_mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``image`` (3, H, W) and ``labels`` (H, W) rotated by ``angle`` degrees and zoomed ``zoom`` times, jointly.

    ``mask_mode``: ``"nearest"`` (what ``tv_tensors.Mask`` gets) or
    ``"bilinear"`` (the mistake: indices interpolated, then rounded).
    """
    if mask_mode not in ("nearest", "bilinear"):
        raise ValueError(f"mask_mode must be 'nearest' or 'bilinear', got {mask_mode!r}")
    if not 1 <= zoom <= 4:
        raise ValueError(f"zoom must lie in [1, 4], got {zoom}")
    size = image.shape[-1]
    crop = round(size / zoom)
    top = left = (size - crop) // 2
    image = TF.resized_crop(TF.rotate(tv_tensors.Image(image), angle, InterpolationMode.BILINEAR, fill=0.0),
                            top, left, crop, crop, [size, size], antialias=True)
    mode = InterpolationMode.NEAREST if mask_mode == "nearest" else InterpolationMode.BILINEAR
    # Uncovered corners become background here (not void): bilinear would blend 255 into every index in between.
    mask = TF.rotate(labels[None].float(), angle, interpolation=mode, fill=0.0)
    mask = TF.resized_crop(mask, top, left, crop, crop, [size, size], interpolation=mode, antialias=False)
    return image.as_subclass(torch.Tensor), mask[0].round().long()


def draw_augmented(index: int = 0, angle: float = 20.0, zoom: float = 2.0, mask_mode: str = "nearest") -> Figure:
    """A test scene and its labels, rotated and zoomed jointly; red outlines: labels nearest-neighbour would not give."""
    image, target = Shapes("test", WIDGET_SCENES)[index]
    labels = target["semantic"]
    new_image, new_labels = augmented_pair(image, labels, angle, zoom, mask_mode)
    changed = new_labels != augmented_pair(image, labels, angle, zoom, "nearest")[1]
    fig, axes = plt.subplots(1, 4, figsize=(10.0, 3.1), layout="constrained")
    viz.show(axes[0], image, "scene")
    viz.show(axes[1], labels, "labels")
    viz.show(axes[2], new_image, f"rotated {angle:.0f} degrees,\nzoomed {zoom:g}x")
    viz.show(axes[3], new_labels, f"its labels, {mask_mode}:\n{int(changed.sum())} pixels wrong")
    if changed.any():
        axes[3].contour(changed.numpy(), levels=[0.5], colors="red", linewidths=0.8)
    viz.add_legend(fig)
    return fig


def invented_share(size: int = 128, scenes: int = 200) -> tuple[float, float]:
    """``scenes`` 64-px test label maps resized bilinearly to ``size``: the share of pixels given an invented class,
    and how many such pixels a scene has on average (``utils.augment.invented_labels``)."""
    _, labels = Shapes("test", scenes).batch(range(scenes))
    invented = invented_labels(labels, size, NUM_CLASSES)
    return invented.double().mean().item(), invented.sum().item() / scenes


def polygon_iou_by_class(scenes: int = 100) -> dict[str, tuple[float, int]]:
    """Mean IoU of each test object with its COCO polygon round trip (``utils.coco.polygon_round_trip``), per class,
    and how many objects: ``{class name: (mean IoU, count)}``."""
    ious: dict[str, list[float]] = {name: [] for name in CLASS_NAMES[1:]}
    data = Shapes("test", scenes)
    for index in range(scenes):
        _, target = data[index]
        for mask, label in zip(target["masks"].numpy(), target["labels"].tolist()):
            back = polygon_round_trip(mask)
            ious[CLASS_NAMES[label]].append((back & mask).sum() / (back | mask).sum())
    return {name: (float(np.mean(values)), len(values)) for name, values in ious.items()}


def draw_joint_augmentation(index: int = 1, draws: int = 4, seed: int = 0) -> Figure:
    """A test scene with its boxes, then ``draws`` passes through ``joint_augmentation``: image, mask and boxes agree."""
    image, target = Shapes("test", index + 1)[index]
    boxes = tv_tensors.BoundingBoxes(target["boxes"], format="XYXY", canvas_size=tuple(image.shape[1:]))
    transform = joint_augmentation(image.shape[-1], boxes=True)
    with torch.random.fork_rng(devices=[]):  # the draws are seeded; the caller's random state is left alone
        torch.manual_seed(seed)
        samples = [(image, target["semantic"], boxes)] + [
            transform(tv_tensors.Image(image), tv_tensors.Mask(target["semantic"]), boxes) for _ in range(draws)]
    fig, axes = plt.subplots(2, draws + 1, figsize=(2.0 * (draws + 1), 4.3), layout="constrained")
    for k, (picture, labels, kept) in enumerate(samples):
        viz.show(axes[0, k], picture.as_subclass(torch.Tensor), "scene" if k == 0 else f"draw {k}")
        viz.draw_boxes(axes[0, k], kept.as_subclass(torch.Tensor))
        viz.show(axes[1, k], labels.as_subclass(torch.Tensor))
        viz.draw_boxes(axes[1, k], kept.as_subclass(torch.Tensor))
    viz.add_legend(fig)
    return fig
