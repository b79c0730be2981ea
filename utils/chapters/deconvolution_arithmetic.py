"""Pictures of convolution arithmetic, drawn from what real PyTorch layers compute.

``contributions`` asks a real ``nn.Conv2d`` / ``nn.ConvTranspose2d`` (all-ones
weights) which input cells feed each output cell, through its Jacobian; the
drawings only colour that answer in. Used by ``lectures/06_deconvolution_arithmetic``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from ..arithmetic import conv_output_size, conv_transpose_output_size, overlap_counts

KINDS = ("convolution", "transposed convolution")


def output_size(kind: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1, a: int = 0) -> int:
    """Output side for ``kind`` (one of ``KINDS``); ``a`` (output padding) only applies to the transposed case."""
    if kind == KINDS[0]:
        if a:
            raise ValueError(f"output padding a applies to transposed convolutions only, got a={a}")
        return conv_output_size(i, k, s, p, d)
    if kind == KINDS[1]:
        return conv_transpose_output_size(i, k, s, p, a, d)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def make_layer(kind: str, k: int, s: int = 1, p: int = 0, d: int = 1, a: int = 0) -> nn.Module:
    """A real single-channel layer of ``kind`` with all-ones weights and no bias."""
    if kind == KINDS[0]:
        layer = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    else:
        layer = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=a, dilation=d, bias=False)
    nn.init.ones_(layer.weight)
    return layer


def contributions(kind: str, i: int, k: int, s: int = 1, p: int = 0, d: int = 1, a: int = 0) -> torch.Tensor:
    """Tap counts (o, o, i, i): how many kernel taps connect input cell (y, x) to output cell (u, v).

    Read off the Jacobian of the real layer, so it is exactly what PyTorch
    computes; an entry is 0 where the input cell does not feed the output cell.
    """
    output_size(kind, i, k, s, p, d, a)  # refuse impossible settings with the rule that breaks
    layer = make_layer(kind, k, s, p, d, a)
    jacobian = torch.autograd.functional.jacobian(lambda x: layer(x[None, None])[0, 0], torch.zeros(i, i))
    return jacobian.round().to(torch.int64)


def _cells(ax: plt.Axes, values: np.ndarray, cmap: str, vmax: float, pad: int = 0, side: int | None = None) -> None:
    """Draw ``values`` (n, n) as square cells of unit size, ``pad`` dashed padding cells around them.

    ``side`` fixes the axis extent in cells, so that several panels share one cell size.
    """
    n = values.shape[0]
    colours = plt.get_cmap(cmap)(np.clip(values / max(vmax, 1), 0, 1) * 0.85)
    for y in range(-pad, n + pad):
        for x in range(-pad, n + pad):
            inside = 0 <= y < n and 0 <= x < n
            face = colours[y, x] if inside and values[y, x] else (0.96, 0.96, 0.96, 1.0)
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fc=face, ec="0.55" if inside else "0.8",
                                   ls="-" if inside else "--", lw=0.8))
            if inside and values[y, x] and n <= 20:
                dark = values[y, x] / max(vmax, 1) > 0.6
                ax.text(x, y, str(int(values[y, x])), ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
    extent = (side or n + 2 * pad) / 2
    middle = (n - 1) / 2
    ax.set_xlim(middle - extent, middle + extent)
    ax.set_ylim(middle + extent, middle - extent)
    ax.set_aspect("equal")
    ax.axis("off")


def _outline(ax: plt.Axes, cells, colour: str) -> None:
    for y, x in cells:
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, ec=colour, lw=2.4))


def draw_arithmetic(kind: str = KINDS[1], i: int = 4, k: int = 3, s: int = 2, p: int = 1, d: int = 1, a: int = 1,
                    cell: tuple[int, int] | None = None) -> Figure:
    """Input grid, output grid and the overlap map of one layer, all at one cell size.

    Left: the input (dashed: a convolution's zero padding), the cells that
    feed the highlighted output ``cell`` (default: the centre) numbered by how
    many taps use them. Middle: the output, the highlighted cell outlined.
    Right: for every output cell, how many taps reach it; uneven numbers there
    are the checkerboard.
    """
    links = contributions(kind, i, k, s, p, d, a)
    o = links.shape[0]
    cy, cx = cell if cell is not None else (o // 2, o // 2)
    if not (0 <= cy < o and 0 <= cx < o):
        raise ValueError(f"cell must lie inside the {o}x{o} output, got {(cy, cx)}")
    feeds, overlap = links[cy, cx].numpy(), links.sum((2, 3)).numpy()
    pad = p if kind == KINDS[0] else 0
    side = max(i + 2 * pad, o) + 1
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.6))
    _cells(axes[0], feeds, "Blues", feeds.max(), pad, side)
    _outline(axes[0], zip(*np.nonzero(feeds)), "tab:blue")
    _cells(axes[1], np.zeros((o, o)), "Greys", 1, 0, side)
    _outline(axes[1], [(cy, cx)], "tab:orange")
    _cells(axes[2], overlap, "Oranges", overlap.max(), 0, side)
    axes[0].set_title(f"input {i}x{i}" + (f", padding {p}" if pad else "") + "\nblue: feeds the outlined cell")
    axes[1].set_title(f"output {o}x{o}")
    axes[2].set_title("taps reaching each output cell")
    formula = (f"o = floor(({i} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = {o}" if kind == KINDS[0]
               else f"o = ({i}-1)*{s} - 2*{p} + {d}*({k}-1) + {a} + 1 = {o}")
    params = f"k={k}, s={s}, p={p}, d={d}" + (f", a={a}" if kind == KINDS[1] else "")
    fig.suptitle(f"{kind} ({params}):   {formula}")
    return fig


def draw_overlap(k: int = 3, s: int = 2, n: int = 6) -> Figure:
    """The overlap pattern of a transposed convolution of ones, 1-D (bars) and 2-D (map)."""
    counts_1d, counts_2d = overlap_counts(k, s, n, ndim=1).numpy(), overlap_counts(k, s, n, ndim=2).numpy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.0), gridspec_kw={"width_ratios": [1.6, 1]})
    left.bar(np.arange(len(counts_1d)), counts_1d, color="tab:orange")
    left.set_xlabel("output position")
    left.set_ylabel("taps")
    left.set_title(f"1-D, kernel {k}, stride {s}")
    image = right.imshow(counts_2d, cmap="Oranges", vmin=0)
    right.set_title("2-D")
    right.set_xticks([])
    right.set_yticks([])
    fig.colorbar(image, ax=right, shrink=0.8)
    return fig


def _draw_stretched(ax: plt.Axes, side: int, spread: int, edge: int, s: int) -> None:
    """The stretched input's cells: inputs (blue), zeros between (white), around (grey) and extra (orange)."""
    for y in range(side):
        for x in range(side):
            ry, rx = y - edge, x - edge
            inside = 0 <= ry < spread and 0 <= rx < spread
            is_input = inside and ry % s == 0 and rx % s == 0
            extra = ry >= spread + edge or rx >= spread + edge
            face = "#9ecae1" if is_input else "white" if inside else "#fdd0a2" if extra else "0.9"
            ax.add_patch(Rectangle((x, y), 1, 1, fc=face, ec="0.5", lw=0.8, ls="-" if inside else "--"))
            label = f"x{ry // s}{rx // s}" if is_input else "0"
            ax.text(x + 0.5, y + 0.5, label, ha="center", va="center", fontsize=7, color="black" if is_input else "0.55")


def draw_zero_insertion(i: int = 2, k: int = 3, s: int = 2, p: int = 1, a: int = 1) -> Figure:
    """A transposed convolution's input, stretched: inputs, inserted zeros, edge zeros, the flipped kernel's first window.

    Left: the ``i`` x ``i`` input spread ``s`` cells apart (blue), the ``s - 1``
    zeros between (white), ``k - 1 - p`` zeros around (grey, dashed) and ``a``
    more at the bottom and right (orange, dashed); the red square is the
    flipped kernel at its first position. Right: the output, one cell per
    kernel position, the first one outlined.
    """
    edge = k - 1 - p
    if edge < 0:
        raise ValueError(f"p must be at most k - 1 = {k - 1} for this picture (a larger p crops), got {p}")
    spread = (i - 1) * s + 1
    side = spread + 2 * edge + a
    o = conv_transpose_output_size(i, k, s, p, a)
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 3.8), gridspec_kw={"width_ratios": [side, max(o, 1)]})
    _draw_stretched(axes[0], side, spread, edge, s)
    axes[0].add_patch(Rectangle((0, 0), k, k, fill=False, ec="tab:red", lw=2.5))
    for y in range(o):
        for x in range(o):
            axes[1].add_patch(Rectangle((x, y), 1, 1, fc="0.97", ec="0.5", lw=0.8))
    axes[1].add_patch(Rectangle((0, 0), 1, 1, fill=False, ec="tab:red", lw=2.5))
    for ax, n, title in ((axes[0], side, f"stretched input {side}x{side}: {s - 1} zero(s) between, "
                                         f"{edge} around, {a} more bottom/right"),
                         (axes[1], o, f"output {o}x{o}")):
        ax.set_xlim(-0.2, n + 0.2)
        ax.set_ylim(n + 0.2, -0.2)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=8)
    fig.suptitle(f"transposed convolution k={k}, s={s}, p={p}, a={a} = stride-1 convolution with the flipped kernel")
    return fig


def settle_arithmetic(params: dict) -> dict:
    """The widget's settle rule: output padding exists only for transposed layers, and below max(stride, dilation)."""
    if params["kind"] == KINDS[0]:
        return {**params, "a": 0}
    return {**params, "a": min(params["a"], max(params["s"], params["d"]) - 1)}
