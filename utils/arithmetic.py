"""Convolution and transposed-convolution arithmetic, with small reference implementations.

Taught in ``lectures/06_deconvolution_arithmetic`` (Dumoulin & Visin 2016,
"A guide to convolution arithmetic for deep learning"). The size functions
agree with PyTorch on every setting it accepts and raise ``ValueError`` (naming
the parameter and the rule) on every setting it refuses; the tests check both
with hypothesis.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_padding(p: int) -> None:
    if not isinstance(p, int) or p < 0:
        raise ValueError(f"padding p must be a non-negative integer, got {p!r}")


def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output length of a convolution: ``floor((i + 2p - d(k-1) - 1) / s) + 1``.

    ``i`` input length, ``k`` kernel, ``s`` stride, ``p`` zero padding on each
    side, ``d`` dilation (Dumoulin & Visin, relationships 1-6 and 15).
    """
    _check_positive(i=i, k=k, s=s, d=d)
    _check_padding(p)
    effective = d * (k - 1) + 1
    if i + 2 * p < effective:
        raise ValueError(
            f"the dilated kernel d(k-1)+1 = {effective} must fit in the padded input i+2p = {i + 2 * p}: "
            "the output would be empty"
        )
    return (i + 2 * p - effective) // s + 1


def conv_transpose_output_size(i: int, k: int, s: int = 1, p: int = 0, output_padding: int = 0, d: int = 1) -> int:
    """Output length of a transposed convolution: ``(i-1)s - 2p + d(k-1) + output_padding + 1``.

    ``output_padding`` (the adjustment ``a`` of Dumoulin & Visin, relationship
    14) adds rows on one side only; PyTorch requires it to be smaller than the
    stride or the dilation.
    """
    _check_positive(i=i, k=k, s=s, d=d)
    _check_padding(p)
    if not isinstance(output_padding, int) or output_padding < 0:
        raise ValueError(f"output_padding must be a non-negative integer, got {output_padding!r}")
    if output_padding >= s and output_padding >= d:
        raise ValueError(
            f"output_padding must be smaller than the stride s or the dilation d, got output_padding={output_padding}, "
            f"s={s}, d={d}"
        )
    size = (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"padding p={p} crops away the whole output ((i-1)s + d(k-1) + output_padding + 1 - 2p = {size})")
    return size


def conv_transpose2d_loops(
    x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> torch.Tensor:
    """Transposed convolution written as the scatter it is: (C_in, H, W) -> (C_out, H', W').

    ``weight`` has PyTorch's layout (C_in, C_out, k, k). Every input pixel adds
    ``x[:, i, j] * weight`` into the output at (i*stride, j*stride), spread by
    the dilation; ``padding`` then crops that many rows and columns from each
    side and ``output_padding`` keeps extra ones at the bottom and right.
    """
    c_in, height, width = x.shape
    k = weight.shape[-1]
    out_h = conv_transpose_output_size(height, k, stride, padding, output_padding, dilation)
    out_w = conv_transpose_output_size(width, k, stride, padding, output_padding, dilation)
    full = x.new_zeros(weight.shape[1], (height - 1) * stride + dilation * (k - 1) + 1 + output_padding,
                       (width - 1) * stride + dilation * (k - 1) + 1 + output_padding)
    for i in range(height):
        for j in range(width):
            for a in range(k):
                for b in range(k):
                    full[:, i * stride + a * dilation, j * stride + b * dilation] += x[:, i, j] @ weight[:, :, a, b]
    return full[:, padding:padding + out_h, padding:padding + out_w]


def conv_transpose2d_zero_insertion(
    x: torch.Tensor, weight: torch.Tensor, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> torch.Tensor:
    """Transposed convolution as an ordinary convolution: (C_in, H, W) -> (C_out, H', W').

    Insert ``stride - 1`` zeros between neighbouring inputs, pad every side by
    ``dilation (k - 1) - padding`` (and the bottom and right by ``output_padding``
    more; a negative amount crops), then convolve with stride 1 and the kernel
    flipped in both directions, its input and output channels swapped
    (Dumoulin & Visin's view; ``weight`` in PyTorch's (C_in, C_out, k, k) layout).
    """
    c_in, height, width = x.shape
    spread = x.new_zeros(c_in, (height - 1) * stride + 1, (width - 1) * stride + 1)
    spread[:, ::stride, ::stride] = x
    edge = dilation * (weight.shape[-1] - 1) - padding
    spread = F.pad(spread, (edge, edge + output_padding, edge, edge + output_padding))
    return F.conv2d(spread[None], weight.transpose(0, 1).flip(-1, -2), dilation=dilation)[0]


def conv_matrix(weight: torch.Tensor, input_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> torch.Tensor:
    """The matrix ``C`` of a single-channel 2-D convolution on an ``input_size`` x ``input_size`` image.

    ``weight`` (k, k). Returns C with shape (o*o, i*i), o the output size, such
    that ``conv2d(x).flatten() == C @ x.flatten()``. Row r holds the kernel
    weights at the input pixels output r reads; zero padding simply drops taps
    that fall outside the image.
    """
    k = weight.shape[-1]
    o = conv_output_size(input_size, k, stride, padding, dilation)
    matrix = weight.new_zeros(o * o, input_size * input_size)
    for oy in range(o):
        for ox in range(o):
            for a in range(k):
                for b in range(k):
                    iy, ix = oy * stride - padding + a * dilation, ox * stride - padding + b * dilation
                    if 0 <= iy < input_size and 0 <= ix < input_size:
                        matrix[oy * o + ox, iy * input_size + ix] += weight[a, b]
    return matrix


def overlap_counts(k: int, s: int, n: int = 8, ndim: int = 1) -> torch.Tensor:
    """How many kernel taps land on each output cell of a transposed convolution of ``n`` ones.

    Computed by running ``conv_transpose1d/2d`` with an all-ones input and
    kernel (k, stride s), so it is what PyTorch does. Returns (L,) or (L, L).
    """
    _check_positive(k=k, s=s, n=n)
    if ndim not in (1, 2):
        raise ValueError(f"ndim must be 1 or 2, got {ndim}")
    shape = (1, 1) + (n,) * ndim
    ones, kernel = torch.ones(shape), torch.ones((1, 1) + (k,) * ndim)
    op = F.conv_transpose1d if ndim == 1 else F.conv_transpose2d
    return op(ones, kernel, stride=s)[0, 0]


def overlap_ratio(k: int, s: int, ndim: int = 1) -> float:
    """Max / min overlap over the interior of the output (away from the border, where coverage is uneven anyway).

    1 means even coverage; anything above 1 is the checkerboard of Odena et al. (2016).
    """
    counts = overlap_counts(k, s, n=2 * (k + s), ndim=ndim)
    margin = k
    interior = counts[(slice(margin, -margin),) * ndim]
    return (interior.max() / interior.min()).item()
