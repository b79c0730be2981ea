"""Chapter 8's classifiers: the pooling each names, where each looked, and a glimpse that starts as the whole scene."""

import pytest
import torch
import torch.nn.functional as F

from utils.data import NUM_CLASSES
from utils.models.attention import (LABELS, LOCATOR_LR, GlimpseClassifier, PooledClassifier, ResizedClassifier,
                                    box_theta, glimpse_theta, theta_box)
from utils.models.scale_attention import ScaleFusionCNN
from utils.zoo.classification import attention_measures, multiply_adds


@pytest.mark.parametrize("pool", ["average", "max", "attention"])
def test_pooled_classifiers_give_one_logit_per_shape_and_a_map_that_sums_to_one(pool):
    torch.manual_seed(0)
    model = PooledClassifier(pool)
    images = torch.rand(2, 3, 64, 64)
    assert model(images).shape == (2, LABELS)
    where = model.where(images)
    assert where.shape == (2, 8, 8)  # a 64-pixel scene, a grid 1/8 of its side
    torch.testing.assert_close(where.sum((1, 2)), torch.ones(2))


def test_attention_pooling_is_the_softmax_weighted_sum_of_the_features():
    torch.manual_seed(0)
    model = PooledClassifier("attention")
    features = torch.randn(2, 64, 8, 8)  # (B, WIDTH, h, w)
    scores = model.attention.score(features).flatten(1).softmax(1)  # (B, h*w)
    expected = torch.einsum("bl,bcl->bc", scores, features.flatten(2))
    torch.testing.assert_close(model.pool(features), expected)
    assert not torch.allclose(model.pool(features), features.mean((2, 3))), "attention is not average pooling"


def test_max_pooling_map_counts_where_each_channel_peaks():
    model = PooledClassifier("max", width=8)
    features = torch.zeros(1, 8, 2, 2)
    features[0, :6, 0, 0], features[0, 6:, 1, 1] = 1.0, 1.0
    model.grid = lambda images: images
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


def test_the_shared_cnn_stays_frozen_and_in_eval_mode_while_the_rest_trains():
    model = GlimpseClassifier(glimpse=32).train()
    assert not model.features.training and model.head.training
    trained = {id(p) for group in model.param_groups(1e-3) for p in group["params"]}
    assert not any(id(p) in trained for p in model.features.parameters())
    assert all(id(p) in trained for p in model.locator.parameters())


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


def test_glimpse_sampling_outside_the_scene_is_refused_and_padding_modes_are_named():
    model = GlimpseClassifier(glimpse=16)
    outside = torch.tensor([[[0.2, 0.0, 1.5], [0.0, 0.2, 0.0]]])
    with pytest.raises(ValueError, match="^theta: the glimpse lies wholly outside"):
        model.cut(torch.rand(1, 3, 32, 32), outside)
    with pytest.raises(ValueError, match="^padding_mode must be"):
        GlimpseClassifier(padding_mode="edge")


def test_the_locator_learns_slower_and_the_resized_baseline_sees_the_antialiased_scene():
    model = GlimpseClassifier(glimpse=32)
    groups = model.param_groups(1e-3)
    assert [g["lr"] for g in groups] == [1e-3, 1e-3 * LOCATOR_LR]
    assert sum(len(g["params"]) for g in groups) == len([p for p in model.parameters() if p.requires_grad])
    torch.manual_seed(0)
    resized, images = ResizedClassifier(32).eval(), torch.rand(2, 3, 64, 64)
    small = F.interpolate(images, size=32, mode="bilinear", antialias=True, align_corners=False)
    full = PooledClassifier("average").eval()
    full.load_state_dict(resized.state_dict())
    torch.testing.assert_close(resized(images), full(small))
    assert 3.5 < multiply_adds(full, 64) / multiply_adds(resized, 64) < 4.5, "the same network on 4x the pixels"


def test_box_theta_is_the_inverse_of_theta_box():
    boxes = torch.tensor([[0.0, 0, 64, 64], [10, 20, 42, 52], [40, 0, 56, 16]])
    theta = box_theta(boxes, 64)
    torch.testing.assert_close(theta_box(theta, 64), boxes)
    torch.testing.assert_close(theta[0], torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]))


@pytest.mark.parametrize("fusion", ["average", "max", "attention"])
def test_scale_fusion_combines_each_scales_scores(fusion):
    torch.manual_seed(0)
    model = ScaleFusionCNN(NUM_CLASSES, fusion).eval()
    images = torch.rand(2, 3, 32, 32)
    fused, weights = model(images, return_weights=True)
    assert fused.shape == (2, NUM_CLASSES, 32, 32) and weights.shape == (2, 3, 32, 32)
    torch.testing.assert_close(weights.sum(1), torch.ones(2, 32, 32))
    per_scale = torch.stack([F.interpolate(model.classifier(f), size=32, mode="bilinear", align_corners=False)
                             for f in model.level_features(images)], 1)
    expected = {"average": per_scale.mean(1), "max": per_scale.amax(1),
                "attention": (weights.unsqueeze(2) * per_scale).sum(1)}[fusion]
    torch.testing.assert_close(fused, expected)


def test_scale_fusion_refuses_an_empty_set_of_scales():
    with pytest.raises(ValueError, match="^levels must be at least 1"):
        ScaleFusionCNN(NUM_CLASSES, levels=0)
    with pytest.raises(ValueError, match="^fusion must be one of"):
        ScaleFusionCNN(NUM_CLASSES, "sum")


def test_attention_measures_against_a_known_mask():
    masks = torch.zeros(1, 8, 8, dtype=torch.bool)
    masks[0, :4, :4] = True  # the top-left cell of a 2x2 grid, a quarter of the image
    on_target = torch.tensor([[[0.7, 0.1], [0.1, 0.1]]])
    uniform = torch.full((1, 2, 2), 0.25)
    hit, flat = attention_measures(on_target, masks), attention_measures(uniform, masks)
    torch.testing.assert_close(hit["mass"], torch.tensor([0.7]))
    assert hit["pointing"].item() and hit["attention_iou"].item() == 1.0
    torch.testing.assert_close(flat["mass"], flat["cover"])  # uniform weights are chance: the target's share
    torch.testing.assert_close(flat["pointing_chance"], torch.tensor([0.25]))
    off_target = attention_measures(torch.tensor([[[0.1, 0.1], [0.1, 0.7]]]), masks)
    assert not off_target["pointing"].item() and off_target["attention_iou"].item() == 0.0


def test_reinforce_estimates_are_unbiased_with_or_without_a_baseline_and_the_baseline_cuts_the_noise():
    from utils.chapters.attention import reinforce_gradients

    p = torch.sigmoid(torch.tensor(-1.0)).item()
    plain = reinforce_gradients(baseline=0.0, offset=10.0, trials=400)
    centred = reinforce_gradients(baseline=10.0 + p, offset=10.0, trials=400)
    true = p * (1 - p)
    assert abs(plain.mean() - true) < 4 * plain.std() / 20 and abs(centred.mean() - true) < 4 * centred.std() / 20
    assert centred.std() * 10 < plain.std()


def test_classification_loss_and_the_cluttered_training_stream():
    from utils.models import ZOO
    from utils.zoo.losses import LOSSES
    from utils.zoo.training import training_scenes

    scenes = training_scenes(ZOO["glimpse"], 4, seed=0)
    images, labels = scenes.batch(range(4))
    assert images.shape == (4, 3, 64, 64) and labels.min() >= 1
    logits = torch.zeros(4, LABELS)
    logits[torch.arange(4), labels - 1] = 20.0  # certain and right: the loss must be about zero
    assert LOSSES["classify"](lambda x: logits, images, labels, None) < 1e-6


def test_the_widget_refuses_an_unknown_classifier_or_scene_by_name():
    from utils.chapters.attention import WIDGET_SCENES, draw_attention

    with pytest.raises(ValueError, match="^model must be one of"):
        draw_attention(0, "median pooling")
    with pytest.raises(ValueError, match="^index must be a test scene"):
        draw_attention(WIDGET_SCENES, "soft attention")
