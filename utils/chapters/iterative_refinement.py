"""Chapter 4's measurements and pictures: receptive field per pass, controls, repairs, starts, timing, the widget.

Used by ``lectures/04_iterative_refinement``; the network is
``utils/models/recurrent.py`` (``RecurrentCNN``), its per-pass network is
chapter 3's ``MultiscaleCNN`` with one level.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .. import viz
from ..data import NUM_CLASSES, Shapes, damage, one_hot
from ..metrics import mean_iou
from ..models import RecurrentCNN
from ..receptive_field import measured_field
from ..timing import best_seconds
from ..zoo import checkpoints
from .multiscale import pyramid_layers
from .patches_to_fcn import receptive_fields, spatial_layers

#: Test scenes the widget can show, and the starting label maps it offers.
WIDGET_SCENES = 50
STARTS = ("none", "damaged ground truth", "single-scale output")
#: Colours of the repair map: fixed (wrong -> right), broken (right -> wrong), changed but still wrong.
REPAIR_COLOURS = {"fixed": (0.1, 0.8, 0.2), "broken": (0.9, 0.1, 0.1), "changed, still wrong": (1.0, 0.8, 0.0)}


#: The recurrence and the models that isolate what it credits, all at one budget (the zoo's _CH4 recipe).
CONTROLS = {
    "recurrent": "tied f, loss on every pass",
    "recurrent_one_pass": "the same f trained for one pass",
    "recurrent_untied": "three different networks, one per pass",
    "recurrent_last_loss": "loss on the last pass only",
    "recurrent_detached": "no gradient through the labels",
}


def measured_field_by_pass(name: str = "recurrent", passes: int = 3) -> list[int]:
    """The receptive field after 1..``passes`` passes of shipped model ``name``, measured by autograd (pixels)."""
    model = checkpoints.load_shared(name)
    return [measured_field(lambda x, t=t: model(x, t)[-1]) for t in range(1, passes + 1)]


def pass_fields() -> tuple[int, int]:
    """(first, added): one pass's receptive field and what each later pass adds, by the layer rule.

    Pass 1 reads the image through chapter 3's 1/2 pyramid level: blur, halve,
    then ``f``'s layers. A later pass reads the previous labels, which live on
    the half-size grid, through ``f``'s own window: ``(window - 1) x 2`` more
    pixels of the original image. Both in pixels of the original image; the
    bilinear upsamplings are left out (``measured_field_by_pass`` counts them).
    """
    layers = spatial_layers(RecurrentCNN(NUM_CLASSES).f.cnn.features)
    return receptive_fields(pyramid_layers(1))[-1][3], (receptive_fields(layers)[-1][3] - 1) * 2


def receptive_field_by_iteration(iterations: int = 5, fields: tuple[int, int] | None = None) -> list[int]:
    """Receptive field after 1..``iterations`` passes: ``first + (t - 1) * added`` (see ``pass_fields``).

    Windows chain like layers of stride 1: pass t sees the labels of pass t-1,
    each of which saw its own window.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be at least 1, got {iterations}")
    first, added = pass_fields() if fields is None else fields
    return [first + (t - 1) * added for t in range(1, iterations + 1)]


@torch.no_grad()
def start_probabilities(start: str, image: torch.Tensor, semantic: torch.Tensor) -> torch.Tensor | None:
    """The starting label map (1, C, H, W) named by ``start`` (one of ``STARTS``); ``None`` for no labels yet."""
    if start not in STARTS:
        raise ValueError(f"start must be one of {STARTS}, got {start!r}")
    if start == "none":
        return None
    if start == "damaged ground truth":
        return one_hot(damage(semantic))[None]
    return checkpoints.load_shared("singlescale")(image[None]).softmax(1)


@torch.no_grad()
def label_maps(image: torch.Tensor, iterations: int, start: torch.Tensor | None = None) -> list[torch.Tensor]:
    """The shipped recurrent model's labels (H, W) after each of ``iterations`` passes on ``image`` (3, H, W)."""
    return [s[0].argmax(0) for s in checkpoints.load_shared("recurrent")(image[None], iterations, start)]


def repairs(before: torch.Tensor, after: torch.Tensor, truth: torch.Tensor) -> dict[str, torch.Tensor]:
    """Boolean (H, W) maps of the pixels one pass ``fixed``, ``broken`` and ``changed, still wrong``."""
    was_right, is_right, changed = before == truth, after == truth, before != after
    return {"fixed": ~was_right & is_right, "broken": was_right & ~is_right,
            "changed, still wrong": changed & ~was_right & ~is_right}


def repair_counts(before: torch.Tensor, after: torch.Tensor, truth: torch.Tensor) -> dict[str, int]:
    """How many pixels a pass fixed, broke, or changed without fixing (label maps of any equal shape)."""
    return {name: int(mask.sum()) for name, mask in repairs(before, after, truth).items()}


def repair_picture(before: torch.Tensor, after: torch.Tensor, truth: torch.Tensor) -> np.ndarray:
    """(H, W, 3) RGB: each repaired pixel in its ``REPAIR_COLOURS`` colour on a dark background."""
    picture = np.full((*truth.shape, 3), 0.12)
    for name, mask in repairs(before, after, truth).items():
        picture[mask.numpy()] = REPAIR_COLOURS[name]
    return picture


def cumulative_seconds(model: torch.nn.Module, images: torch.Tensor, iterations: int = 5,
                       repeats: int = 5) -> list[float]:
    """Seconds to run 1, 2, ..., ``iterations`` passes of ``model`` on ``images`` (``timing.best_seconds``)."""
    with torch.no_grad():
        best = best_seconds({t: (lambda t=t: model(images, t)) for t in range(1, iterations + 1)}, repeats)
    return [best[t] for t in range(1, iterations + 1)]


def draw_refinement(index: int = 0, iterations: int = 3, start: str = "none") -> Figure:
    """Test scene ``index`` after ``iterations`` passes from ``start``: labels, what the last pass changed, mIoU."""
    if not 0 <= index < WIDGET_SCENES:
        raise ValueError(f"index must be a test scene in 0..{WIDGET_SCENES - 1}, got {index}")
    if not 1 <= iterations <= 5:
        raise ValueError(f"iterations must be between 1 and 5, got {iterations}")
    image, target = Shapes("test", WIDGET_SCENES)[index]
    truth = target["semantic"]
    initial = start_probabilities(start, image, truth)
    maps = label_maps(image, iterations, initial)
    before = maps[-2] if iterations > 1 else (initial[0].argmax(0) if initial is not None else None)
    changes = repair_picture(before, maps[-1], truth) if before is not None else np.full((*truth.shape, 3), 0.12)
    counts = repair_counts(before, maps[-1], truth) if before is not None else None
    start_panel = initial[0].argmax(0) if initial is not None else torch.zeros_like(truth)
    change_title = "first pass: nothing before it" if counts is None else \
        f"last pass: {counts['fixed']} fixed, {counts['broken']} broken"
    fig = viz.grid([[image, truth, start_panel, maps[-1], changes]],
                   titles=["image", "ground truth", f"start: {start}",
                           f"after {iterations} passes: mIoU {mean_iou(maps[-1], truth, NUM_CLASSES):.3f}",
                           change_title], cell=2.0, legend=False)
    handles = [Patch(facecolor=c, label=n) for n, c in REPAIR_COLOURS.items()]
    fig.legend(handles=handles + viz.legend_handles(), loc="outside lower center", ncol=5, frameon=False)
    return fig


def draw_passes(index: int = 0, iterations: int = 5) -> Figure:
    """One row per pass of scene ``index``: labels and what that pass fixed or broke."""
    image, target = Shapes("test", index + 1)[index]
    maps = label_maps(image, iterations)
    fig, axes = plt.subplots(2, iterations, figsize=(1.9 * iterations, 4.0))
    for t, labels in enumerate(maps):
        viz.show(axes[0, t], labels, f"pass {t + 1}: mIoU {mean_iou(labels, target['semantic'], NUM_CLASSES):.2f}")
        if t:
            counts = repair_counts(maps[t - 1], labels, target["semantic"])
            viz.show(axes[1, t], repair_picture(maps[t - 1], labels, target["semantic"]),
                     f"+{counts['fixed']} / -{counts['broken']}")
        else:
            viz.show(axes[1, 0], image, "image")
    handles = [Patch(facecolor=c, label=n) for n, c in REPAIR_COLOURS.items()]
    fig.legend(handles=viz.legend_handles() + handles, loc="outside lower center", ncol=5, frameon=False)
    return fig
