"""Chapter 5's pictures and measurements: the FCN family, upsampling methods, one model's stages, edge bands.

Used by ``lectures/05_upsampling_skip_connections``; the models are in
``utils/models/fcn.py`` and ``utils/models/upsampling.py``.
"""

from __future__ import annotations

import inspect

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from .. import viz
from ..bootstrap import scene_confusions
from ..data import NUM_CLASSES, VOID, Shapes
from ..metrics import boundary_band, mean_iou
from ..models import FCN_IMAGE_SIZE
from ..models.upsampling import Upsample
from ..zoo import checkpoints

#: The shipped FCN variants a reader can choose in the widget.
VARIANTS = ("fcn32s", "fcn16s", "fcn8s", "fcn8s_fixed_bilinear")


def _box(ax, x, y, w, h, text, colour, fontsize=7):
    ax.add_patch(Rectangle((x, y), w, h, fc=colour, ec="0.3", lw=0.8))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, colour="0.3"):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, color=colour, lw=0.9))


#: Each model's path from ``score_fr`` to the output: ("up", label) an upsampling, ("skip", stage) a fused skip.
CHAINS = {
    "FCN-32s": [("up", "x32")],
    "FCN-16s": [("up", "x2"), ("skip", 4), ("up", "x16")],
    "FCN-8s": [("up", "x2"), ("skip", 4), ("up", "x2"), ("skip", 3), ("up", "x8")],
}


def _draw_chain(ax: plt.Axes, y: float, chain: list[tuple[str, object]], pools: list[tuple[float, float]]) -> None:
    """One model's row at height ``y``: ``score_fr``, its upsamplings and, in orange, skips from ``pools`` (x, bottom)."""
    _box(ax, 1.2, y, 1.3, 0.6, "score_fr", "#f5dccf")
    x = 2.5
    for kind, value in chain:
        if kind == "up":
            _arrow(ax, (x, y + 0.3), (x + 0.4, y + 0.3))
            _box(ax, x + 0.4, y, 0.9, 0.6, value, "#e6f5cf")
            x += 1.3
            continue
        _arrow(ax, (x, y + 0.3), (x + 0.45, y + 0.3))
        ax.text(x + 0.6, y + 0.3, "+", fontsize=13, ha="center", va="center", weight="bold")
        _arrow(ax, pools[value - 1], (x + 0.6, y + 0.55), "tab:orange")
        ax.text(x + 0.75, y + 0.75, f"score_pool{value}", fontsize=6, color="tab:orange")
        x += 0.75
    ax.text(x + 0.1, y + 0.3, "scores at /1", fontsize=7, va="center")


def draw_fcn_family() -> Figure:
    """One diagram of FCN-32s, 16s and 8s: the shared backbone and where each skip joins.

    Backbone boxes shrink with the feature map (stride 2 ... 32), as in Long et
    al.'s figure 3; each row below is one model's path from ``score_fr`` to
    the output, orange arrows the skip branches.
    """
    fig, ax = plt.subplots(figsize=(10.0, 4.8))
    xs = [0.9 + 1.25 * k for k in range(5)]
    heights = [2.2 / 2 ** (k * 0.5) for k in range(5)]
    _box(ax, -0.5, 4.1, 1.0, 2.2, "image\n128x128", "0.92")
    for k, x in enumerate(xs):
        _box(ax, x, 5.2 - heights[k] / 2, 0.8, heights[k], f"pool{k + 1}\n/{2 ** (k + 1)}", "#cfe3f5")
        _arrow(ax, (x - 0.45 if k else 0.5, 5.2), (x, 5.2))
    _box(ax, 7.2, 4.85, 1.3, 0.7, "fc6, fc7\nscore_fr /32", "#f5dccf")
    _arrow(ax, (xs[-1] + 0.8, 5.2), (7.2, 5.2))
    pools = [(x + 0.4, 5.2 - h / 2) for x, h in zip(xs, heights)]
    for row, (name, chain) in enumerate(CHAINS.items()):
        ax.text(-0.5, 3.2 - 1.25 * row + 0.3, name, fontsize=9, weight="bold", va="center")
        _draw_chain(ax, 3.2 - 1.25 * row, chain, pools)
    ax.set_xlim(-0.6, 10.2)
    ax.set_ylim(0.4, 6.5)
    ax.axis("off")
    ax.set_title("the FCN family: one backbone; 16s adds class scores from pool4, 8s also from pool3")
    return fig


def upsampling_methods(coarse: torch.Tensor, factor: int) -> dict[str, torch.Tensor]:
    """A (H, W) map, max-pooled by ``factor`` and brought back to (H, W) five ways.

    Returns the pooled map itself and nearest-neighbour, bilinear, "bed of
    nails" (each value in one corner of its block, zeros elsewhere),
    max-unpooling (each value back where the pooling found it) and a
    transposed convolution with the bilinear kernel.
    """
    if coarse.dim() != 2 or coarse.shape[0] % factor or coarse.shape[1] % factor:
        raise ValueError(f"coarse must be an (H, W) map with H and W divisible by factor={factor}")
    x = coarse[None, None]
    pooled, switches = F.max_pool2d(x, factor, return_indices=True)
    nails = torch.zeros_like(x)
    nails[..., ::factor, ::factor] = pooled
    with torch.no_grad():
        transposed = Upsample(1, factor)(pooled)
    results = {
        "max-pooled": pooled,
        "nearest": F.interpolate(pooled, scale_factor=factor, mode="nearest"),
        "bilinear": F.interpolate(pooled, scale_factor=factor, mode="bilinear", align_corners=False),
        "bed of nails": nails,
        "max-unpooling (switches)": F.max_unpool2d(pooled, switches, factor, output_size=x.shape[-2:]),
        "transposed conv, bilinear init": transposed,
    }
    return {name: value[0, 0] for name, value in results.items()}


def draw_upsampling(coarse: torch.Tensor, factor: int = 4, title: str = "") -> Figure:
    """The original map and ``upsampling_methods`` of it, in one row."""
    methods = upsampling_methods(coarse, factor)
    fig, axes = plt.subplots(1, len(methods) + 1, figsize=(13.0, 2.5))
    for ax, (name, picture) in zip(axes, [("original", coarse), *methods.items()]):
        ax.imshow(picture.detach().numpy(), cmap="viridis", vmin=0, vmax=coarse.max().item())
        ax.set_title(name, fontsize=8)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


def draw_stages(name: str = "fcn8s", index: int = 0, skip_pool4: bool = True, skip_pool3: bool = True) -> Figure:
    """One FCN on test scene ``index``: its coarsest scores, each fused stage, the output and the scene's mIoU.

    ``skip_pool4`` / ``skip_pool3`` switch a skip branch off at inference
    (a model without that branch ignores the switch).
    """
    if name not in VARIANTS:
        raise ValueError(f"name must be one of {VARIANTS}, got {name!r}")
    image, target = Shapes("test", index + 1, image_size=FCN_IMAGE_SIZE)[index]
    model = checkpoints.load_shared(name)
    accepted = inspect.signature(model.stages).parameters
    skips = {k: v for k, v in (("skip_pool4", skip_pool4), ("skip_pool3", skip_pool3)) if k in accepted}
    with torch.no_grad():
        stages = model.stages(image[None], **skips)
    labels = stages["out"][0].argmax(0)
    score = mean_iou(labels, target["semantic"], NUM_CLASSES)
    maps = [(f"{key} {tuple(value.shape[-2:])}", value[0].argmax(0)) for key, value in stages.items() if key != "out"]
    fig = viz.grid([[image, *[m for _, m in maps], labels, target["semantic"]]],
                   titles=["image", *[t for t, _ in maps], "output labels", "ground truth"], cell=2.1)
    switched = ", ".join(f"{k[5:]} off" for k, v in skips.items() if not v)
    fig.suptitle(f"{name}{' (' + switched + ')' if switched else ''}: scene {index}, mIoU {score:.3f}")
    return fig


def band_scene_confusions(labels: torch.Tensor, semantic: torch.Tensor,
                          widths: tuple[int, ...]) -> dict[object, torch.Tensor]:
    """Per-scene confusions (N, C, C) of label maps ``labels`` against ``semantic`` (both (N, H, W)).

    Key ``"all"``: every labelled pixel; key ``w`` for each of ``widths``: the
    pixels within ``w`` of a true edge (the others are set to ``VOID``, which
    a confusion leaves out). Per scene, so that a bootstrap can resample
    scenes (``utils.bootstrap``); summed, they are ``band_confusions_of``'s.
    """
    bands = {"all": semantic} | {w: semantic.where(boundary_band(semantic, w), VOID) for w in widths}
    return {key: scene_confusions(labels, truth, NUM_CLASSES) for key, truth in bands.items()}
