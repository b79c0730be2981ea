"""The losses for a rare class: focal is cross-entropy at gamma 0, Dice of a perfect answer is 0, void is left out."""

import pytest
import torch
import torch.nn.functional as F

from utils.data import RARE_CROSSES, VOID, Shapes
from utils.imbalance import (class_frequencies, focal_loss, median_frequency_weights, soft_dice_loss,
                             weighted_cross_entropy)


def scores_and_labels(seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(6, (2, 8, 8), generator=g)
    labels[0, :2] = VOID
    return torch.randn(2, 6, 8, 8, generator=g), labels


def test_focal_at_gamma_zero_is_cross_entropy_and_down_weights_easy_pixels():
    scores, labels = scores_and_labels()
    torch.testing.assert_close(focal_loss(scores, labels, 0.0), F.cross_entropy(scores, labels, ignore_index=VOID))
    assert focal_loss(scores, labels, 2.0) < focal_loss(scores, labels, 0.0)
    with pytest.raises(ValueError, match="gamma"):
        focal_loss(scores, labels, -1.0)


def test_void_pixels_change_no_loss():
    scores, labels = scores_and_labels()
    changed = scores.clone()
    changed[0, :, :2] = torch.randn(6, 2, 8) * 10
    weights = torch.linspace(0.5, 2.0, 6)
    for loss in (focal_loss, soft_dice_loss, lambda s, t: weighted_cross_entropy(s, t, weights)):
        torch.testing.assert_close(loss(scores, labels), loss(changed, labels))


def test_dice_of_a_confident_right_answer_is_near_zero_and_of_a_wrong_one_near_one():
    _, labels = scores_and_labels()
    right = F.one_hot(labels.where(labels != VOID, 0), 6).permute(0, 3, 1, 2).float() * 50
    assert soft_dice_loss(right, labels) < 0.01
    assert soft_dice_loss(right.roll(1, dims=1), labels) > 0.8


def test_median_frequency_weights_favour_the_rare_class():
    _, semantic = Shapes("train", 128, distribution=RARE_CROSSES).batch(range(128))
    weights = median_frequency_weights(semantic, 6)
    frequency = class_frequencies(semantic, 6)
    assert weights[4] > 1 > weights[0] and weights.argmax() == frequency.argmin()
    assert torch.isclose(weights[frequency.argsort()[2]], torch.tensor(1.0))  # the median class weighs 1
    with pytest.raises(ValueError, match="never occur"):
        median_frequency_weights(torch.zeros(4, 4, dtype=torch.long), 6)
