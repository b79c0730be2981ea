"""Chapter 3: the Gaussian pyramid, the shared CNN, receptive fields per level, the widget's refusals."""

import pytest
import torch
from torchvision.transforms.v2.functional import gaussian_blur

from utils.chapters.multiscale import draw_multiscale, receptive_field_per_level
from utils.data import NUM_CLASSES
from utils.models import DilatedCNN, MultiscaleCNN, OneLevelCNN
from utils.models.multiscale import MIN_LEVEL_SIZE, dropout_mask, gaussian_pyramid
from utils.receptive_field import measured_field


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


def test_the_layer_rule_matches_autograd_once_the_upsampling_counts():
    """Measured on an untrained pyramid (the field is the architecture's, not the weights'): the rule without the
    bilinear upsampling falls short by one output spacing per level, the rule with it agrees."""
    model = MultiscaleCNN(NUM_CLASSES, levels=3).eval()
    measured = [measured_field(lambda x, k=k: model(x, [j == k for j in range(3)])) for k in range(3)]
    assert receptive_field_per_level(3, upsampling=True) == measured
    assert [m - r for m, r in zip(measured, receptive_field_per_level(3))] == [2, 4, 8]


def test_the_controls_see_what_they_are_built_to_see():
    measured = {name: measured_field(model.eval()) for name, model in (
        ("half", OneLevelCNN(NUM_CLASSES, 1)), ("quarter", OneLevelCNN(NUM_CLASSES, 2)),
        ("wide", MultiscaleCNN(NUM_CLASSES, levels=1, features=DilatedCNN())))}
    pyramid = receptive_field_per_level(3, upsampling=True)
    assert measured["half"] == pyramid[1] and measured["quarter"] == pyramid[2]
    assert abs(measured["wide"] - pyramid[2]) <= 2, measured


def test_widget_refuses_impossible_settings():
    with pytest.raises(ValueError, match="use_levels"):
        draw_multiscale(0, False, False, False)
    with pytest.raises(ValueError, match="index"):
        draw_multiscale(99)
    with pytest.raises(ValueError, match="cleanup"):
        draw_multiscale(0, cleanup="crf")
    with pytest.raises(ValueError, match="scale"):
        draw_multiscale(0, cleanup="superpixels", superpixel_scale=0)


def test_level_dropout_keeps_at_least_one_level_and_only_while_training():
    keep = dropout_mask(500, 3, 0.6, torch.device("cpu"))
    assert keep.sum(1).min() >= 1 and 0.3 < keep.mean() < 0.6
    model = MultiscaleCNN(NUM_CLASSES, levels=3, level_dropout=0.5).eval()
    images = torch.rand(2, 3, 32, 32)
    assert torch.equal(model(images), model(images)), "no dropout at test time"
    with pytest.raises(ValueError, match="level_dropout"):
        MultiscaleCNN(NUM_CLASSES, level_dropout=1.0)
