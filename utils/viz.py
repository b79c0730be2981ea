"""Pictures of label maps: colour coding, overlays, side-by-side grids with a class legend; error bars.

Used by every chapter; the course's figure style is set once by ``utils.setup``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from scipy.ndimage import binary_dilation, binary_erosion
from skimage.color import label2rgb

from .data import CLASS_NAMES, PALETTE, VOID


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def image_to_rgb(image) -> np.ndarray:
    """A (3,H,W) float image in [0,1] (tensor or array) as an (H,W,3) array for ``imshow``."""
    image = _numpy(image)
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must have shape (3,H,W), got {image.shape}")
    return np.clip(image.transpose(1, 2, 0), 0.0, 1.0)


def colorize(labels, palette: np.ndarray = PALETTE) -> np.ndarray:
    """Integer label map (H,W) -> uint8 RGB (H,W,3) using one palette colour per class; ``VOID`` pixels white."""
    labels = _numpy(labels).astype(np.int64)
    void = labels == VOID
    labels = np.where(void, 0, labels)
    if labels.min(initial=0) < 0 or labels.max(initial=0) >= len(palette):
        raise ValueError(f"labels must lie in 0..{len(palette) - 1} (or be VOID) to be coloured with this palette")
    return np.where(void[..., None], np.uint8(255), palette[labels])


def instance_colors(n: int) -> np.ndarray:
    """``n`` well-separated RGB colours (float, (n,3)) for instance masks."""
    return plt.get_cmap("tab10")(np.arange(n) % 10)[:, :3]


def overlay(image, labels, alpha: float = 0.55, palette: np.ndarray = PALETTE) -> np.ndarray:
    """Blend the colour-coded ``labels`` (H,W) over ``image`` (3,H,W); background pixels stay as they are."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    rgb, labels = image_to_rgb(image), _numpy(labels)
    colours = colorize(labels, palette) / 255.0
    blend = (1 - alpha) * rgb + alpha * colours
    return np.where((labels > 0)[..., None], blend, rgb)


def region_means(image, regions) -> np.ndarray:
    """``image`` (3,H,W) as (H,W,3) RGB with every region of the integer map ``regions`` (H,W) painted its mean colour.

    Shows a segmentation (superpixels) the way the clean-ups see it: each region one unit.
    """
    return label2rgb(_numpy(regions), image_to_rgb(image), kind="avg", bg_label=-1)


def greyscale(image, brightness: float = 0.85) -> np.ndarray:
    """``image`` (3,H,W) as a dimmed grey (H,W,3) picture, so that coloured outlines drawn on it never vanish."""
    grey = image_to_rgb(image) @ np.array([0.299, 0.587, 0.114])
    return np.repeat((brightness * grey)[..., None], 3, axis=2)


def outline(mask) -> np.ndarray:
    """The boundary pixels of a boolean mask (H,W): inside it, with a 4-neighbour outside it."""
    mask = _numpy(mask).astype(bool)
    return mask & ~binary_erosion(mask, border_value=0)


def draw_outlines(picture: np.ndarray, masks, colours) -> np.ndarray:
    """``picture`` (H,W,3) with each mask of ``masks`` (N,H,W) outlined, two pixels thick, in its colour (N,3)."""
    picture = picture.copy()
    for mask, colour in zip(_numpy(masks).astype(bool), colours):
        edge = outline(mask)
        picture[edge | (binary_dilation(edge) & mask)] = colour
    return picture


def draw_boxes(ax: plt.Axes, boxes, labels=None, colours=None) -> None:
    """Draw xyxy ``boxes`` (N,4) in pixel-edge coordinates on ``ax``, with class names if ``labels``."""
    boxes = _numpy(boxes)
    colours = instance_colors(len(boxes)) if colours is None else colours
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, lw=1.5, ec=colours[i]))
        if labels is not None:
            ax.text(x0 - 0.5, y0 - 1.5, CLASS_NAMES[int(labels[i])], color=colours[i], fontsize=7, va="bottom")


def confusion_heatmap(ax: plt.Axes, confusion, names: Sequence[str] = CLASS_NAMES) -> None:
    """A confusion matrix (C,C) (rows: true, columns: predicted) with rows normalised to 1 and raw counts written in."""
    counts = _numpy(confusion).astype(np.int64)
    shares = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=60)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (rows sum to 1)")
    for (i, j), v in np.ndenumerate(counts):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=6, color="white" if shares[i, j] > 0.6 else "black")


def error_bars(intervals) -> tuple[list[float], list[list[float]]]:
    """``(values, yerr)`` for matplotlib's ``errorbar``/``bar`` from ``(value, low, high)`` intervals.

    ``yerr`` is the two rows matplotlib asks for: how far below and above each
    value its interval reaches. Chapters 3, 4 and 5 draw their 95% intervals so.
    """
    rows = [tuple(map(float, row)) for row in intervals]
    if any(low > value or value > high for value, low, high in rows):  # NaN (an empty bin) passes: nothing drawn
        raise ValueError(f"intervals must be (value, low, high) with low <= value <= high, got {rows}")
    return [v for v, _, _ in rows], [[v - low for v, low, _ in rows], [high - v for v, _, high in rows]]


def legend_handles(class_ids: Sequence[int] | None = None) -> list[Patch]:
    """Legend patches for the given classes (all classes by default)."""
    ids = range(len(CLASS_NAMES)) if class_ids is None else class_ids
    return [Patch(facecolor=PALETTE[i] / 255.0, edgecolor="0.5", label=CLASS_NAMES[i]) for i in ids]


def add_legend(fig: Figure, class_ids: Sequence[int] | None = None) -> None:
    """One class legend under the whole figure."""
    handles = legend_handles(class_ids)
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)


def show(ax: plt.Axes, picture, title: str | None = None) -> None:
    """``imshow`` a (3,H,W) image, an (H,W) label map or an (H,W,3) RGB array without ticks."""
    picture = _numpy(picture)
    if picture.ndim == 3 and picture.shape[0] == 3:
        picture = image_to_rgb(picture)
    elif picture.ndim == 2 and np.issubdtype(picture.dtype, np.integer):
        picture = colorize(picture)
    ax.imshow(picture, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)


def grid(
    rows: Sequence[Sequence], titles: Sequence[str] | None = None, row_labels: Sequence[str] | None = None,
    legend: bool = True, cell: float = 1.9,
) -> Figure:
    """A grid of pictures: ``rows[r][c]`` is anything ``show`` accepts.

    ``titles`` label the columns, ``row_labels`` the rows; ``legend`` adds the class legend.
    """
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows + 0.4 * legend), squeeze=False)
    for r, row in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r, c]
            if c < len(row):
                show(ax, row[c], titles[c] if titles and r == 0 else None)
            else:
                ax.axis("off")
        if row_labels:
            axes[r, 0].set_ylabel(row_labels[r])
    if legend:
        add_legend(fig)
    return fig
