"""Chapter 3: the Gaussian pyramid, the shared CNN, receptive fields per level, the widget's refusals."""

import pytest
import torch
from torchvision.transforms.v2.functional import gaussian_blur

from utils.chapters.multiscale import draw_multiscale, receptive_field_per_level
from utils.data import NUM_CLASSES
from utils.models import MultiscaleCNN
from utils.models.multiscale import MIN_LEVEL_SIZE, gaussian_pyramid


def test_pyramid_halves_and_blurs():
    images = torch.rand(2, 3, 64, 48)
    pyramid = gaussian_pyramid(images, 3)
    assert [tuple(level.shape[-2:]) for level in pyramid] == [(64, 48), (32, 24), (16, 12)]
    assert pyramid[0] is images
    expected = gaussian_blur(images, [5, 5], [1.0, 1.0])[..., ::2, ::2]
    torch.testing.assert_close(pyramid[1], expected)
    flat = torch.full((1, 3, 32, 32), 0.3)
    torch.testing.assert_close(gaussian_pyramid(flat, 3)[2], torch.full((1, 3, 8, 8), 0.3))


def test_pyramid_refuses_impossible_levels():
    with pytest.raises(ValueError, match="levels"):
        gaussian_pyramid(torch.rand(1, 3, 64, 64), 0)
    with pytest.raises(ValueError, match=f"at least {MIN_LEVEL_SIZE}"):
        gaussian_pyramid(torch.rand(1, 3, 64, 64), 5)


def test_one_set_of_weights_serves_every_level():
    single, multi = MultiscaleCNN(NUM_CLASSES, levels=1), MultiscaleCNN(NUM_CLASSES, levels=3)
    assert sum(p.numel() for p in single.features.parameters()) == sum(p.numel() for p in multi.features.parameters())
    assert multi.classifier[0].in_channels == 3 * single.classifier[0].in_channels
    assert multi.eval()(torch.rand(2, 3, 64, 64)).shape == (2, NUM_CLASSES, 64, 64)


def test_dropping_a_level_zeroes_its_features():
    torch.manual_seed(0)
    net = MultiscaleCNN(NUM_CLASSES, levels=3).eval()
    x = torch.rand(1, 3, 64, 64)
    features = net.level_features(x)
    features[2] = torch.zeros_like(features[2])
    with torch.no_grad():
        torch.testing.assert_close(net(x, (True, True, False)), net.classifier(torch.cat(features, 1)))
        assert not torch.allclose(net(x), net(x, (True, True, False)))
    with pytest.raises(ValueError, match="use_levels"):
        net(x, (False, False, False))
    with pytest.raises(ValueError, match="use_levels"):
        net(x, (True, True))


def test_receptive_field_grows_with_each_level():
    assert receptive_field_per_level(3) == [14, 31, 65]


def test_widget_refuses_impossible_settings():
    with pytest.raises(ValueError, match="use_levels"):
        draw_multiscale(0, False, False, False)
    with pytest.raises(ValueError, match="index"):
        draw_multiscale(99)
    with pytest.raises(ValueError, match="cleanup"):
        draw_multiscale(0, cleanup="crf")
    with pytest.raises(ValueError, match="scale"):
        draw_multiscale(0, cleanup="superpixels", superpixel_scale=0)
