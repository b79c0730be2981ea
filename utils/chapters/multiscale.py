"""Chapter 3's measurements and pictures: receptive fields per pyramid level, clean-ups, the widget.

Used by ``lectures/03_multiscale``; the networks are in
``utils/models/multiscale.py``, the bottom-up clean-ups in ``utils/bottom_up.py``.
``python -m utils.chapters.multiscale`` runs the validation sweep that chose
``bottom_up.SUPERPIXEL_SCALE`` and ``bottom_up.MERGE_THRESHOLD``.
"""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import bottom_up, viz
from ..book_build import progress
from ..bootstrap import binned_mean_interval, scene_confusions
from ..data import CLASS_NAMES, NUM_CLASSES, Shapes
from ..metrics import confusion_matrix, iou_from_confusion, iou_per_class, mean_iou, object_sizes_and_recall
from ..models.multiscale import BLUR_KERNEL, SharedCNN, gaussian_pyramid
from ..receptive_field import measured_field
from ..zoo import checkpoints
from ..zoo.inference import in_chunks
from .patches_to_fcn import receptive_fields, spatial_layers

#: Test scenes the widget can show.
WIDGET_SCENES = 50
#: The clean-ups a reader can choose, "none" first.
CLEANUP_CHOICES = ("none", *bottom_up.CLEANUPS)
#: The pyramid and the controls that would explain its gain another way, as chapter 3's table names them.
CONTROLS = {"singlescale": "single-scale", "half_only": "1/2 level alone", "quarter_only": "1/4 level alone",
            "wide_singlescale": "wide single-scale (dilated)", "multiscale": "pyramid (1 + 1/2 + 1/4)"}
#: The model whose levels the toggles switch off: trained with levels dropped at random, so that a dropped
#: level is a question it was trained to answer (zeroing a level of ``multiscale`` shows it features it never saw).
LEVELS_MODEL = "multiscale_dropout"


def pyramid_layers(level: int, net: SharedCNN | None = None, upsampling: bool = False) -> list[tuple[str, int, int]]:
    """(name, kernel, stride) from the original image to ``net``'s output at pyramid ``level`` (0 = full size).

    Each level first adds a Gaussian blur (kernel ``BLUR_KERNEL``, stride 1) and a
    halving (kernel 1, stride 2); then come the CNN's own layers. ``upsampling``
    adds the bilinear upsampling back to the image's grid, which reads two
    neighbouring outputs per axis: a kernel of 2 at the output's spacing.
    """
    if level < 0:
        raise ValueError(f"level must be 0 (full size) or more, got {level}")
    reduce = [("blur", BLUR_KERNEL, 1), ("halve", 1, 2)]
    return reduce * level + spatial_layers(SharedCNN() if net is None else net) + (
        [("bilinear upsampling", 2, 1)] if upsampling else [])


def receptive_field_per_level(levels: int = 3, upsampling: bool = False) -> list[int]:
    """The shared CNN's receptive field at each pyramid level, in pixels of the original image, by the layer rule."""
    return [receptive_fields(pyramid_layers(level, upsampling=upsampling))[-1][3] for level in range(levels)]


def measured_field_per_level(name: str = "multiscale", levels: int = 3) -> list[int]:
    """Each pyramid level's receptive field measured by autograd on shipped model ``name`` (the others switched off)."""
    model = checkpoints.load_shared(name)
    return [measured_field(lambda x, level=level: model(x, [k == level for k in range(levels)]))
            for level in range(levels)]


def scene_with_large(classes: tuple[str, ...] = ("disk", "square"), min_side: float = 30.0, start: int = 0,
                     image_size: int = 64) -> int:
    """The first test scene from ``start`` whose largest object is one of ``classes`` and at least ``min_side`` across."""
    unknown = [c for c in classes if c not in CLASS_NAMES[1:]]
    if unknown:
        raise ValueError(f"classes must be among {CLASS_NAMES[1:]}, got {unknown}")
    wanted = {CLASS_NAMES.index(c) for c in classes}
    data = Shapes("test", start + 200, image_size=image_size)
    for index in range(start, start + 200):
        target = data[index][1]
        areas = target["masks"].flatten(1).sum(1)
        if int(target["labels"][areas.argmax()]) in wanted and areas.max().sqrt() >= min_side:
            return index
    raise ValueError(f"no test scene in {start}..{start + 199} has a large {' or '.join(classes)}")


def draw_receptive_fields(index: int = 0, levels: int = 3, image_size: int = 64) -> Figure:
    """Each pyramid level of test scene ``index``, shown at the original size, with the CNN's window drawn on it.

    The window is centred on the largest object: at full resolution it sees a
    patch of its inside; at 1/4 scale it sees the whole object and its surroundings.
    """
    image, target = Shapes("test", index + 1, image_size=image_size)[index]
    areas = target["masks"].flatten(1).sum(1)
    x0, y0, x1, y1 = target["boxes"][int(areas.argmax())].tolist()
    cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
    fields = receptive_field_per_level(levels, upsampling=True)  # what autograd measures (tests/test_multiscale.py)
    pyramid = gaussian_pyramid(image[None], levels)
    fig, axes = plt.subplots(1, levels, figsize=(2.6 * levels, 2.9))
    for level, (ax, picture, field) in enumerate(zip(axes, pyramid, fields)):
        ax.imshow(viz.image_to_rgb(picture[0]), extent=(-0.5, image_size - 0.5, image_size - 0.5, -0.5))
        ax.add_patch(Rectangle((cx - field / 2, cy - field / 2), field, field, fill=False, ec="white", lw=2))
        ax.set_xlim(-0.5, image_size - 0.5)
        ax.set_ylim(image_size - 0.5, -0.5)
        ax.set_xticks([])
        ax.set_yticks([])
        side = image_size // 2**level
        ax.set_title(f"scale 1/{2**level} ({side}x{side}): sees {field}x{field}")
    return fig


@torch.no_grad()
def probabilities(name: str, images: torch.Tensor, use_levels: tuple[bool, ...] | None = None) -> torch.Tensor:
    """Class probabilities (B, C, H, W) of shipped model ``name`` on (B, 3, H, W) images."""
    return in_chunks(lambda x: checkpoints.load_shared(name)(x, use_levels), images).softmax(1)


def cleaned(image: torch.Tensor, probs: torch.Tensor, cleanup: str, scale: float) -> torch.Tensor:
    """Labels (H, W) from probabilities (C, H, W): their arg-max, or one of ``bottom_up.CLEANUPS``."""
    if cleanup not in CLEANUP_CHOICES:
        raise ValueError(f"cleanup must be one of {CLEANUP_CHOICES}, got {cleanup!r}")
    return probs.argmax(0) if cleanup == "none" else bottom_up.CLEANUPS[cleanup](image, probs, scale)


def recall_by_size_with_noise(labels: torch.Tensor, targets: list[dict],
                              edges: list[float]) -> list[tuple[int, float, float, float]]:
    """Per object-size bin: (objects, mean recall, 95% interval low, high), the interval a bootstrap over objects."""
    sizes, recall = object_sizes_and_recall(labels, targets)
    return [binned_mean_interval(recall, sizes, low, high) for low, high in zip(edges[:-1], edges[1:])]


def measure_cleanups(images: torch.Tensor, semantic: torch.Tensor, name: str = "multiscale",
                     scale: float = bottom_up.SUPERPIXEL_SCALE) -> dict[str, dict]:
    """Per-scene confusions (N, C, C) and median seconds per image of the network and of each clean-up.

    ``images`` (N, 3, H, W), ``semantic`` (N, H, W). The network is timed one
    image at a time, like the clean-ups, so the seconds compare.
    """
    labels = {choice: [] for choice in CLEANUP_CHOICES}
    seconds = {choice: [] for choice in CLEANUP_CHOICES}
    for image in progress(images, "scenes"):
        start = time.perf_counter()
        probs = probabilities(name, image[None])[0]
        seconds["none"].append(time.perf_counter() - start)
        labels["none"].append(probs.argmax(0))
        for choice, cleanup in bottom_up.CLEANUPS.items():
            start = time.perf_counter()
            labels[choice].append(cleanup(image, probs, scale))
            seconds[choice].append(time.perf_counter() - start)
    return {choice: {"confusions": scene_confusions(torch.stack(labels[choice]), semantic, NUM_CLASSES),
                     "seconds": float(np.median(seconds[choice]))} for choice in CLEANUP_CHOICES}


def draw_multiscale(index: int = 0, scale_1: bool = True, scale_2: bool = True, scale_4: bool = True,
                    cleanup: str = "none", superpixel_scale: float = bottom_up.SUPERPIXEL_SCALE) -> Figure:
    """Test scene ``index`` through the pyramid with the chosen levels and clean-up.

    Panels: image, ground truth, labels, errors (red), and the superpixels the
    clean-up would use. A dropped level's features are set to zero; the model
    is ``LEVELS_MODEL``, trained with levels dropped at random.
    """
    if not 0 <= index < WIDGET_SCENES:
        raise ValueError(f"index must be a test scene in 0..{WIDGET_SCENES - 1}, got {index}")
    use_levels = (scale_1, scale_2, scale_4)
    if not any(use_levels):
        raise ValueError("use_levels: tick at least one pyramid level")
    image, target = Shapes("test", WIDGET_SCENES)[index]
    regions = bottom_up.superpixels(image, superpixel_scale)
    labels = cleaned(image, probabilities(LEVELS_MODEL, image[None], use_levels)[0], cleanup, superpixel_scale)
    truth = target["semantic"]
    errors = np.where((labels != truth).numpy()[..., None], [1.0, 0.1, 0.1], viz.image_to_rgb(image) * 0.35)
    score = mean_iou(labels, truth, NUM_CLASSES)
    used = "+".join(f"1/{s}" for s, on in zip((1, 2, 4), use_levels) if on)
    fig = viz.grid([[image, truth, labels, errors, viz.region_means(image, regions)]],
                   titles=["image", "ground truth", f"labels ({cleanup})", f"errors: mIoU {score:.3f}",
                           f"{regions.max() + 1} superpixels"], cell=2.0)
    fig.suptitle(f"scene {index}, levels {used}")
    return fig


def iou_without_levels(use_levels: tuple[bool, ...], scenes: int = 100) -> dict[str, float]:
    """Per object class, how much IoU ``LEVELS_MODEL`` loses on ``scenes`` test scenes with only ``use_levels``."""
    images, semantic = Shapes("test", scenes).batch(range(scenes))
    full = iou_per_class(probabilities(LEVELS_MODEL, images).argmax(1), semantic, NUM_CLASSES)
    reduced = iou_per_class(probabilities(LEVELS_MODEL, images, use_levels).argmax(1), semantic, NUM_CLASSES)
    return {name: (full[c] - reduced[c]).item() for c, name in enumerate(CLASS_NAMES) if c > 0}


def cleanup_sweep(scenes: int = 100) -> None:
    """Print the validation mIoU of each clean-up over superpixel scales and merge thresholds (the sweep behind the defaults)."""
    images, semantic = Shapes("val", scenes).batch(range(scenes))
    probs = probabilities("multiscale", images)
    thresholds = (0.1, 0.2, 0.3, np.inf)
    print(f"{scenes} validation scenes, multiscale model; mIoU\n{'scale':>6}{'superpixels':>13}"
          + "".join(f"{'tree @ ' + str(t):>13}" for t in thresholds))
    for scale in (30.0, 60.0, 120.0):
        regions = [bottom_up.superpixels(image, scale) for image in images]
        votes = torch.stack([bottom_up.superpixel_vote(p, r) for p, r in zip(probs, regions)])
        row = [iou_from_confusion(confusion_matrix(votes, semantic, NUM_CLASSES)).nanmean().item()]
        for threshold in thresholds:
            covers = torch.stack([bottom_up.purest_cover(p, r, bottom_up.segmentation_tree(image, r, threshold))
                                  for image, p, r in zip(images, probs, regions)])
            row.append(iou_from_confusion(confusion_matrix(covers, semantic, NUM_CLASSES)).nanmean().item())
        print(f"{scale:>6.0f}" + "".join(f"{v:>13.3f}" for v in row))


if __name__ == "__main__":
    cleanup_sweep()
