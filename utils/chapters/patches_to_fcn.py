"""Patch-based labelling and its costs: sliding windows, receptive fields, work counts (chapter 2).

``lectures/02_patches_to_fcn`` writes the sliding window, the receptive
field table and the convolutionalised classifier out for the reader; the
versions here (and ``PatchNet.dense``) are the ones the tests hold them to.
"""

from __future__ import annotations

import copy

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn
from torchvision.models import alexnet

from .. import viz
from ..data import CLASS_NAMES, Shapes
from ..models.patchnet import FC_INPUT, OUTPUT_STRIDE, PATCH_SIZE, PatchNet, pad_for_patches
from ..zoo import checkpoints


def extract_patches(image: torch.Tensor, stride: int = 1) -> torch.Tensor:
    """The PATCH_SIZE x PATCH_SIZE patch around every ``stride``-th pixel of one image.

    ``image`` (3, H, W) -> (L, 3, PATCH_SIZE, PATCH_SIZE), row-major over pixels
    (0, 0), (0, stride), ...; the border is padded by replication.
    """
    if image.dim() != 3:
        raise ValueError(f"image must have shape (3, H, W), got {tuple(image.shape)}")
    columns = F.unfold(pad_for_patches(image[None]), PATCH_SIZE, stride=stride)  # (1, 3*P*P, L)
    return columns[0].T.reshape(-1, 3, PATCH_SIZE, PATCH_SIZE)


@torch.no_grad()
def sliding_window(net: PatchNet, image: torch.Tensor, stride: int = 1, batch_size: int = 1024) -> torch.Tensor:
    """Classify the patch around every ``stride``-th pixel: (3, H, W) -> scores (C, ceil(H/stride), ceil(W/stride))."""
    rows, cols = -(-image.shape[1] // stride), -(-image.shape[2] // stride)
    patches = extract_patches(image, stride)
    scores = torch.cat([net(patches[i:i + batch_size]) for i in range(0, len(patches), batch_size)])
    return scores.T.reshape(-1, rows, cols)


def receptive_fields(layers: list[tuple[str, int, int]]) -> list[tuple[str, int, int, int]]:
    """Receptive field and jump after each (name, kernel, stride) layer.

    Returns rows (name, kernel, stride, receptive field, jump): the receptive
    field grows by (kernel - 1) x the jump so far, and the jump (distance in
    input pixels between neighbouring outputs) multiplies by the stride.
    """
    rows, field, jump = [], 1, 1
    for name, kernel, stride in layers:
        if kernel < 1 or stride < 1:
            raise ValueError(f"layer {name}: kernel and stride must be positive, got {kernel}, {stride}")
        field += (kernel - 1) * jump
        jump *= stride
        rows.append((name, kernel, stride, field, jump))
    return rows


def spatial_layers(module: nn.Module) -> list[tuple[str, int, int]]:
    """(name, kernel, stride) of every convolution and max pool inside ``module``, in order."""
    layers = []
    for name, layer in module.named_modules():
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            kernel = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            stride = layer.stride if isinstance(layer.stride, int) else layer.stride[0]
            layers.append((f"{name} ({type(layer).__name__})", kernel, stride))
    return layers


def patchnet_layers(net: PatchNet) -> list[tuple[str, int, int]]:
    """(name, kernel, stride) of every spatial layer of ``net``, with fc1/fc2 as the convolutions they become."""
    return [(f"features.{name}", k, s) for name, k, s in spatial_layers(net.features)] + [
        ("fc1 as conv", FC_INPUT, 1), ("fc2 as conv", 1, 1)]


def multiply_adds(net: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-adds of every convolution and linear layer of ``net`` on one input of ``input_shape`` (C, H, W).

    Counted from the layers' output shapes on PyTorch's ``meta`` device, so no
    arithmetic is actually done (an AlexNet on 500x500 costs nothing to count).
    """
    total = 0

    def count(layer: nn.Module, _inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1] * layer.in_channels // layer.groups
            total += output.numel() * k
        elif isinstance(layer, nn.Linear):
            total += output.numel() * layer.in_features

    meta = copy.deepcopy(net).to("meta")
    hooks = [m.register_forward_hook(count) for m in meta.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        meta(torch.empty(1, *input_shape, device="meta"))
    for hook in hooks:
        hook.remove()
    return total


def convolutionalised_alexnet() -> nn.Sequential:
    """AlexNet (torchvision's layout, no weights) with fc6, fc7, fc8 as 6x6, 1x1, 1x1 convolutions: Long et al.'s example."""
    return nn.Sequential(alexnet(weights=None).features, nn.Conv2d(256, 4096, 6), nn.ReLU(), nn.Conv2d(4096, 4096, 1),
                         nn.ReLU(), nn.Conv2d(4096, 1000, 1))


def ideal_speedup(dense: nn.Module, patch_shape: tuple[int, int, int], image_shape: tuple[int, int, int]) -> float:
    """Multiply-adds of classifying every patch the dense pass covers, over those of the one dense pass.

    ``dense`` is the convolutionalised classifier; on a ``patch_shape`` input it
    gives one output, on ``image_shape`` a grid of them. What the sliding window
    would cost is one patch's work times the grid's size.
    """
    with torch.no_grad():
        grid = copy.deepcopy(dense).to("meta")(torch.empty(1, *image_shape, device="meta")).shape[-2:]
    return multiply_adds(dense, patch_shape) * grid[0] * grid[1] / multiply_adds(dense, image_shape)


def draw_patch_probe(y: int = 28, x: int = 36, size: int = 64, index: int = 0) -> Figure:
    """What the patch classifier sees at pixel (y, x) of test scene ``index``, and the matching FCN cell.

    Left: the image with the patch outlined and the dense output grid (one
    cell per OUTPUT_STRIDE pixels). Middle: the class scores of the patch and
    of the nearest dense cell. Right: the dense network's labels.
    """
    if size < PATCH_SIZE // 2 or size > 256:
        raise ValueError(f"size must be between {PATCH_SIZE // 2} and 256 pixels, got {size}")
    if not (0 <= y < size and 0 <= x < size):
        raise ValueError(f"the pixel (y, x) must lie inside the {size}x{size} image, got ({y}, {x})")
    net = checkpoints.load_shared("patchnet")
    image, _ = Shapes("test", index + 1, image_size=size)[index]
    with torch.no_grad():
        patch = extract_patches(image, 1)[y * size + x]
        patch_scores = net(patch[None])[0].softmax(0)
        dense = net.dense(pad_for_patches(image[None]))[0]
    i, j = y // OUTPUT_STRIDE, x // OUTPUT_STRIDE
    cell_scores = dense[:, i, j].softmax(0)
    fig, axes = plt.subplots(1, 3, figsize=(10.0, 3.6), gridspec_kw={"width_ratios": [1, 1.3, 1]})
    viz.show(axes[0], image, f"input {size}x{size}, patch at ({y}, {x})")
    half = PATCH_SIZE // 2
    axes[0].add_patch(Rectangle((x - half - 0.5, y - half - 0.5), PATCH_SIZE, PATCH_SIZE, fill=False, ec="white", lw=1.5))
    axes[0].add_patch(Rectangle((OUTPUT_STRIDE * j - 0.5, OUTPUT_STRIDE * i - 0.5), 1, 1, fill=True, fc="red"))
    axes[0].plot(x, y, "+", color="white", ms=8)
    positions = torch.arange(len(CLASS_NAMES)).numpy()
    axes[1].bar(positions - 0.2, patch_scores.numpy(), 0.4, label="patch classifier at (y, x)")
    axes[1].bar(positions + 0.2, cell_scores.numpy(), 0.4, label=f"FCN cell ({i}, {j}) = pixel ({OUTPUT_STRIDE * i}, {OUTPUT_STRIDE * j})")
    axes[1].set_xticks(positions, CLASS_NAMES, rotation=45)
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel("probability")
    axes[1].legend(loc="upper right", fontsize=7)
    viz.show(axes[2], dense.argmax(0), f"FCN output {dense.shape[1]}x{dense.shape[2]} (stride {OUTPUT_STRIDE})")
    axes[2].add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2))
    viz.add_legend(fig)  # the right panel's colours are classes; the legend names them
    return fig


def settle_probe(params: dict) -> dict:
    """The widget's settle rule: a smaller image pulls the chosen pixel (y, x) inside it."""
    last = params["size"] - 1
    return {**params, "y": min(params["y"], last), "x": min(params["x"], last)}
