"""``utils.arithmetic`` against PyTorch: sizes on every valid setting, refusals on every invalid one."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.arithmetic import (
    conv_matrix,
    conv_output_size,
    conv_transpose2d_loops,
    conv_transpose_output_size,
    overlap_counts,
    overlap_ratio,
)

small = st.integers(min_value=1, max_value=12)


def torch_conv_size(i, k, s, p, d):
    return F.conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p, dilation=d).shape[-1]


def torch_conv_transpose_size(i, k, s, p, a, d):
    out = F.conv_transpose1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p, output_padding=a, dilation=d)
    return out.shape[-1]


@settings(max_examples=400, deadline=None)
@given(i=st.integers(1, 40), k=small, s=st.integers(1, 6), p=st.integers(0, 8), d=st.integers(1, 4))
def test_conv_size_agrees_with_torch(i, k, s, p, d):
    try:
        expected = torch_conv_size(i, k, s, p, d)
    except RuntimeError:
        with pytest.raises(ValueError):
            conv_output_size(i, k, s, p, d)
        return
    assert conv_output_size(i, k, s, p, d) == expected


@settings(max_examples=400, deadline=None)
@given(i=st.integers(1, 40), k=small, s=st.integers(1, 6), p=st.integers(0, 12), a=st.integers(0, 6), d=st.integers(1, 4))
def test_conv_transpose_size_agrees_with_torch(i, k, s, p, a, d):
    try:
        expected = torch_conv_transpose_size(i, k, s, p, a, d)
        refused = expected < 1
    except RuntimeError:
        refused = True
    if refused:
        with pytest.raises(ValueError):
            conv_transpose_output_size(i, k, s, p, a, d)
    else:
        assert conv_transpose_output_size(i, k, s, p, a, d) == expected


@pytest.mark.parametrize(
    "kwargs, word",
    [({"i": 0, "k": 3}, "i must"), ({"i": 4, "k": 0}, "k must"), ({"i": 4, "k": 3, "s": 0}, "s must"),
     ({"i": 4, "k": 3, "d": 0}, "d must"), ({"i": 4, "k": 3, "p": -1}, "padding"), ({"i": 2, "k": 5}, "empty")],
)
def test_conv_refusals_name_the_rule(kwargs, word):
    with pytest.raises(ValueError, match=word):
        conv_output_size(**kwargs)


@pytest.mark.parametrize(
    "kwargs, word",
    [({"i": 4, "k": 3, "s": 2, "output_padding": 2}, "smaller than the stride"),
     ({"i": 1, "k": 1, "p": 1}, "crops away"), ({"i": 4, "k": 3, "output_padding": -1}, "output_padding")],
)
def test_conv_transpose_refusals_name_the_rule(kwargs, word):
    with pytest.raises(ValueError, match=word):
        conv_transpose_output_size(**kwargs)


def test_the_lecture_examples():
    # Input 4, kernel 3, padding 1: stride 1 keeps 4, stride 2 gives 2; the transposed layers undo both.
    assert conv_output_size(4, 3, 1, 1) == 4 and conv_output_size(4, 3, 2, 1) == 2
    assert conv_transpose_output_size(2, 3, 2, 1, output_padding=1) == 4


@settings(max_examples=40, deadline=None)
@given(i=st.integers(1, 5), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
       a=st.integers(0, 2), seed=st.integers(0, 1000))
def test_loop_transposed_convolution_matches_torch(i, k, s, p, d, a, seed):
    try:
        conv_transpose_output_size(i, k, s, p, a, d)
    except ValueError:
        return
    g = torch.Generator().manual_seed(seed)
    x, w = torch.randn(2, i, i, generator=g), torch.randn(2, 3, k, k, generator=g)
    expected = F.conv_transpose2d(x[None], w, stride=s, padding=p, output_padding=a, dilation=d)[0]
    torch.testing.assert_close(conv_transpose2d_loops(x, w, s, p, a, d), expected, atol=1e-5, rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(i=st.integers(1, 7), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2),
       seed=st.integers(0, 1000))
def test_conv_matrix_is_the_convolution_and_its_transpose_the_transposed_one(i, k, s, p, d, seed):
    try:
        o = conv_output_size(i, k, s, p, d)
    except ValueError:
        return
    g = torch.Generator().manual_seed(seed)
    w, x, y = torch.randn(k, k, generator=g), torch.randn(i, i, generator=g), torch.randn(o, o, generator=g)
    c = conv_matrix(w, i, s, p, d)
    conv = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d).flatten()
    torch.testing.assert_close(c @ x.flatten(), conv, atol=1e-5, rtol=1e-5)
    # C^T y is conv_transpose2d(y), once the output padding that restores size i is added.
    a = i - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
    if 0 <= a < max(s, d) and i - a >= 1:
        ct = F.conv_transpose2d(y[None, None], w[None, None], stride=s, padding=p, output_padding=a, dilation=d).flatten()
        torch.testing.assert_close(c.T @ y.flatten(), ct, atol=1e-5, rtol=1e-5)


def test_overlap_pattern_of_kernel_3_stride_2():
    counts = overlap_counts(3, 2, n=4)
    assert counts.tolist() == [1, 1, 2, 1, 2, 1, 2, 1, 1]
    assert overlap_ratio(3, 2, ndim=1) == 2.0
    assert overlap_ratio(3, 2, ndim=2) == 4.0


@pytest.mark.parametrize("k, s", [(2, 2), (4, 2), (6, 3), (1, 1), (3, 1)])
def test_kernel_divisible_by_stride_covers_evenly(k, s):
    assert overlap_ratio(k, s, ndim=2) == 1.0


def test_overlap_counts_refuses_bad_ndim():
    with pytest.raises(ValueError, match="ndim"):
        overlap_counts(3, 2, ndim=3)
