"""Chapter 2: the patch classifier, its dense form, sliding windows and receptive fields."""

import pytest
import torch
from torch import nn

from utils.chapters import patches_to_fcn
from utils.data import Shapes
from utils.models.patchnet import OUTPUT_STRIDE, PATCH_SIZE, PatchNet, pad_for_patches, shift_and_stitch
from utils.reader.exercises import check_fc_as_conv, check_receptive_field


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return PatchNet(6).eval()


@pytest.fixture(scope="module")
def image():
    return Shapes("test", 1, image_size=32)[0][0]


def test_extract_patches_centres_each_pixel(image):
    crops = patches_to_fcn.extract_patches(image)
    assert crops.shape == (32 * 32, 3, PATCH_SIZE, PATCH_SIZE)
    half = PATCH_SIZE // 2
    for y, x in ((0, 0), (5, 17), (31, 31)):
        torch.testing.assert_close(crops[y * 32 + x][:, half, half], image[:, y, x])


def test_dense_pass_equals_sliding_window_on_its_grid(net, image):
    dense = net.dense(pad_for_patches(image[None]))[0]
    window = patches_to_fcn.sliding_window(net, image, stride=OUTPUT_STRIDE)
    assert dense.shape == window.shape == (6, 8, 8)
    torch.testing.assert_close(dense, window, atol=1e-5, rtol=1e-5)


def test_shift_and_stitch_gives_the_sliding_window_at_every_pixel(net, image):
    with torch.no_grad():
        stitched = shift_and_stitch(net, image[None])[0]
    torch.testing.assert_close(stitched, patches_to_fcn.sliding_window(net, image), atol=1e-5, rtol=1e-5)


def test_patchnet_refuses_other_patch_sizes(net):
    with pytest.raises(ValueError, match="30x30"):
        net(torch.zeros(1, 3, 28, 28))


def test_receptive_field_of_patchnet_is_the_patch(net):
    rows = patches_to_fcn.receptive_fields(patches_to_fcn.patchnet_layers(net))
    assert rows[-1][3] == PATCH_SIZE and rows[-1][4] == OUTPUT_STRIDE
    assert patches_to_fcn.receptive_fields([("a", 3, 1), ("b", 2, 2), ("c", 3, 1)])[-1][3:] == (8, 2)
    with pytest.raises(ValueError, match="kernel and stride"):
        patches_to_fcn.receptive_fields([("bad", 0, 1)])


def test_best_seconds_interleaves_and_keeps_the_fastest():
    from utils.timing import best_seconds

    calls = []
    best = best_seconds({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=2)
    assert calls == ["a", "b"] * 3 and set(best) == {"a", "b"} and all(v >= 0 for v in best.values())


def test_patch_probe_figure_and_its_refusals():
    fig = patches_to_fcn.draw_patch_probe(y=8, x=12, size=64)
    assert len(fig.axes) == 3
    with pytest.raises(ValueError, match="inside the 32x32 image"):
        patches_to_fcn.draw_patch_probe(y=40, x=5, size=32)
    with pytest.raises(ValueError, match="size must be"):
        patches_to_fcn.draw_patch_probe(size=1000)


def test_exercise_checkers():
    linear = nn.Linear(8 * 3 * 3, 4)
    conv = nn.Conv2d(8, 4, 3)
    assert check_fc_as_conv(linear, conv).startswith("not yet")
    conv.weight.data = linear.weight.data.reshape(4, 8, 3, 3)
    conv.bias.data = linear.bias.data
    assert check_fc_as_conv(linear, conv).startswith("correct")
    assert check_fc_as_conv(linear, nn.Conv2d(8, 4, 1)).startswith("not yet")
    layers = [("conv", 3, 1), ("conv", 3, 1), ("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1)]
    assert check_receptive_field(12, layers).startswith("correct")
    assert check_receptive_field(9, layers).startswith("not yet")
