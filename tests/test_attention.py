"""Chapter 8's classifiers: the pooling each names, where each looked, and a glimpse that starts as the whole scene."""

import pytest
import torch
import torch.nn.functional as F

from utils.models.attention import LABELS, GlimpseClassifier, PooledClassifier, glimpse_theta, theta_box


@pytest.mark.parametrize("pool", ["average", "max", "attention"])
def test_pooled_classifiers_give_one_logit_per_shape_and_a_map_that_sums_to_one(pool):
    torch.manual_seed(0)
    model = PooledClassifier(pool)
    images = torch.rand(2, 3, 64, 64)
    assert model(images).shape == (2, LABELS)
    where = model.where(images)
    assert where.shape == (2, 8, 8)
    torch.testing.assert_close(where.sum((1, 2)), torch.ones(2))


def test_attention_pooling_is_the_softmax_weighted_sum_of_the_features():
    torch.manual_seed(0)
    model = PooledClassifier("attention")
    features = torch.randn(2, 64, 8, 8)
    scores = model.attention.score(features).flatten(1).softmax(1)  # (B, h*w)
    expected = torch.einsum("bl,bcl->bc", scores, features.flatten(2))
    torch.testing.assert_close(model.pool(features), expected)
    assert not torch.allclose(model.pool(features), features.mean((2, 3))), "attention is not average pooling"


def test_max_pooling_map_counts_where_each_channel_peaks():
    model = PooledClassifier("max", widths=(8,))
    features = torch.zeros(1, 8, 2, 2)
    features[0, :6, 0, 0], features[0, 6:, 1, 1] = 1.0, 1.0
    model.features = torch.nn.Identity()
    torch.testing.assert_close(model.where(features), torch.tensor([[[0.75, 0.0], [0.0, 0.25]]]))


def test_a_new_glimpse_is_the_whole_scene_at_glimpse_resolution():
    torch.manual_seed(0)
    model = GlimpseClassifier(glimpse=32)
    images = torch.rand(2, 3, 64, 64)
    theta = model.theta(images)
    torch.testing.assert_close(theta, torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]).expand(2, 2, 3))
    torch.testing.assert_close(model.where(images), torch.tensor([[0.0, 0, 64, 64]] * 2))
    whole = model.cut(images, theta)
    torch.testing.assert_close(whole, F.interpolate(images, size=32, mode="bilinear", align_corners=False))


def test_glimpse_theta_zooms_stays_inside_and_keeps_its_gradient():
    log_scale = torch.tensor([0.0, -1.0, -3.0], requires_grad=True)
    theta = glimpse_theta(log_scale, torch.tensor([[0.0, 0.0], [5.0, -5.0], [0.0, 0.0]]))
    boxes = theta_box(theta, 64)
    assert boxes[1, 0] >= 0 and boxes[1, 2] <= 64 + 1e-4 and boxes[1, 1] >= -1e-4
    torch.testing.assert_close(boxes[2, 2] - boxes[2, 0], torch.tensor(64 * torch.exp(torch.tensor(-3.0)).item()))
    theta[:, 0, 0].sum().backward()
    assert (log_scale.grad > 0).all(), "the scale's gradient never vanishes"


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="^pool must be one of"):
        PooledClassifier("median")
    with pytest.raises(ValueError, match="^glimpse"):
        GlimpseClassifier(glimpse=4)
    with pytest.raises(ValueError, match="^glimpse: 32 pixels is larger than the 16-pixel scene"):
        GlimpseClassifier(glimpse=32).theta(torch.rand(1, 3, 16, 16))
