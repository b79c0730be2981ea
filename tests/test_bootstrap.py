"""The noise scales: per-scene confusions, bootstrap intervals, and the error bars that draw them."""

import pytest
import torch

from utils import viz
from utils.bootstrap import (bin_contrast_interval, binned_mean_interval, bootstrap_interval, contrast_interval, miou_of,
                             pixel_accuracy_of, scene_confusions, scene_noise)
from utils.metrics import confusion_matrix, mean_iou
from utils.reader import glue as glue_module


def scenes(seed, noise):
    g = torch.Generator().manual_seed(seed)
    truth = torch.randint(3, (40, 8, 8), generator=g)
    pred = torch.where(torch.rand(40, 8, 8, generator=g) < noise, torch.randint(3, (40, 8, 8), generator=g), truth)
    return pred, truth


def test_scene_confusions_sum_to_the_data_set():
    pred, truth = scenes(0, 0.3)
    per_scene = scene_confusions(pred, truth, 3)
    assert per_scene.shape == (40, 3, 3)
    assert torch.equal(per_scene.sum(0), confusion_matrix(pred, truth, 3))
    assert miou_of(per_scene) == pytest.approx(mean_iou(pred, truth, 3))
    assert pixel_accuracy_of(per_scene) == pytest.approx((pred == truth).double().mean().item())


def test_interval_brackets_the_value_and_is_reproducible():
    per_scene = scene_confusions(*scenes(0, 0.3), 3)
    value, low, high = bootstrap_interval(per_scene)
    assert low < value < high and high - low < 0.2
    assert bootstrap_interval(per_scene) == (value, low, high)


def test_paired_difference_sees_a_real_gap_and_no_gap():
    good, bad = scene_confusions(*scenes(0, 0.1), 3), scene_confusions(*scenes(0, 0.5), 3)
    diff, low, high = bootstrap_interval(good, bad)
    assert diff == pytest.approx(miou_of(good) - miou_of(bad)) and low > 0
    same, low, high = bootstrap_interval(good, good)
    assert same == 0 and low == high == 0
    assert scene_noise(-0.01, 0.02) == "inside the noise" and scene_noise(0.01, 0.02) == "outside the noise"
    assert scene_noise(-0.02, -0.01) == "outside the noise"


def test_refusals():
    per_scene = scene_confusions(*scenes(0, 0.3), 3)
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(per_scene, level=1.5)
    with pytest.raises(ValueError, match="baseline"):
        bootstrap_interval(per_scene, per_scene[:5])
    with pytest.raises(ValueError, match="predictions"):
        scene_confusions(torch.zeros(2, 4, 4), torch.zeros(2, 4, 5), 3)


def test_ap_interval_matches_mask_ap_and_pairs_scenes():
    from utils.bootstrap import ap_interval
    from utils.chapters.segmentation_tasks import degrade
    from utils.data import Shapes
    from utils.metrics import mask_average_precision

    targets = [Shapes("test", 30)[i][1] for i in range(30)]
    good = [degrade(t, seed=i, shift=1) for i, t in enumerate(targets)]
    bad = [degrade(t, seed=i, shift=4, grow=-1) for i, t in enumerate(targets)]
    value, low, high = ap_interval(good, targets, resamples=200)
    assert value == pytest.approx(mask_average_precision(good, targets, (0.5,))["ap"]) and low <= value <= high
    diff, low, high = ap_interval(good, targets, bad, threshold=0.75, resamples=200)
    assert diff > 0 and low > 0
    assert ap_interval(good, targets, good, resamples=50) == (0.0, 0.0, 0.0)


def test_glue_interval_defines_the_four_names(monkeypatch):
    recorded = {}
    monkeypatch.setattr(glue_module, "glue", lambda name, value: recorded.__setitem__(name, value))
    assert glue_module.glue_interval("gain", (0.03, 0.01, 0.05)) == (0.03, 0.01, 0.05)
    assert recorded == {"gain": 0.03, "gain_ci_low": 0.01, "gain_ci_high": 0.05, "gain_noise": "outside the noise"}
    glue_module.glue_interval("tie", (0.0, -0.01, 0.01))
    assert recorded["tie_noise"] == "inside the noise"


def test_glue_agreement_shows_the_bound_and_refuses_a_disagreement(monkeypatch):
    recorded = {}
    monkeypatch.setattr(glue_module, "glue", lambda name, value: recorded.__setitem__(name, value))
    glue_module.glue_agreement("same", 2.4e-7)
    glue_module.glue_agreement("exact", 0.0)
    assert recorded == {"same": "1e-5", "exact": "1e-5"}, "the noise itself never reaches the prose"
    with pytest.raises(ValueError, match="differ by 3.0e-05"):
        glue_module.glue_agreement("apart", 3e-5)


def test_the_gap_of_gaps_interval_reads_both_thresholds():
    """A method that finds every object exactly, against one whose masks are too fat for IoU 0.75 but fine at 0.5:
    the gap is zero at 0.5 and one at 0.75, so it widens by one, on every resample."""
    from utils.bootstrap import ap_gap_interval

    targets, exact, fat = [], [], []
    for k in range(6):
        masks = torch.zeros(1, 10, 10, dtype=torch.bool)
        masks[0, 2:6, 2:6] = True
        grown = torch.zeros_like(masks)
        grown[0, 1:6, 2:7] = True  # IoU 16/25 = 0.64
        targets.append({"masks": masks, "labels": torch.tensor([1 + k % 2])})
        exact.append({"masks": masks, "labels": torch.tensor([1 + k % 2]), "scores": torch.tensor([0.9])})
        fat.append({"masks": grown, "labels": torch.tensor([1 + k % 2]), "scores": torch.tensor([0.9])})
    value, low, high = ap_gap_interval(exact, fat, targets)
    assert value == low == high == pytest.approx(1.0)


def test_share_interval_is_wilsons_and_not_degenerate_at_a_perfect_score():
    from utils.bootstrap import share_interval

    share, low, high = share_interval(torch.tensor([True] * 8 + [False] * 2))
    assert share == 0.8 and abs(low - 0.4902) < 1e-3 and abs(high - 0.9433) < 1e-3  # textbook values for 8 of 10
    share, low, high = share_interval(torch.ones(44, dtype=torch.bool))
    assert share == high == 1.0 and 0.90 < low < 0.93, "a perfect score on 44 objects still leaves room below"
    with pytest.raises(ValueError, match="hits"):
        share_interval(torch.zeros(0, dtype=torch.bool))


def test_a_contrast_pairs_every_model_on_the_same_scenes():
    perfect = scene_confusions(torch.zeros(40, 4, 4, dtype=torch.long), torch.zeros(40, 4, 4, dtype=torch.long), 2)
    half = scene_confusions(torch.tensor([[0, 1]] * 40).reshape(40, 1, 2), torch.zeros(40, 1, 2, dtype=torch.long), 2)
    value, low, high = contrast_interval({"a": perfect, "b": half, "c": perfect}, {"a": 1, "b": -2, "c": 1})
    assert value == pytest.approx(2 * (1.0 - 0.25)) and low == pytest.approx(value) and high == pytest.approx(value)
    with pytest.raises(ValueError, match="same scenes"):
        contrast_interval({"a": perfect, "b": half[:10]}, {"a": 1, "b": -1})


def test_bin_means_and_their_contrast_resample_the_items():
    sizes = torch.tensor([5.0] * 30 + [50.0] * 30)
    gains = torch.cat([torch.linspace(0.2, 0.4, 30), torch.linspace(-0.1, 0.1, 30)])
    count, mean, low, high = binned_mean_interval(gains, sizes, 0, 16)
    assert count == 30 and mean == pytest.approx(0.3) and low < 0.3 < high
    assert binned_mean_interval(gains, sizes, 16, 32)[0] == 0
    value, low, high = bin_contrast_interval(gains, sizes, (0, 16), (32, 64))
    assert value == pytest.approx(0.3) and 0 < low < value < high
    with pytest.raises(ValueError, match="first and second"):
        bin_contrast_interval(gains, sizes, (16, 32), (32, 64))


def test_error_bars_reach_from_each_value_to_its_interval_ends_and_refuse_an_inverted_interval():
    values, errors = viz.error_bars([(0.5, 0.4, 0.7), (0.2, 0.2, 0.25)])
    assert values == [0.5, 0.2]
    assert errors[0] == pytest.approx([0.1, 0.0]) and errors[1] == pytest.approx([0.2, 0.05])
    with pytest.raises(ValueError, match="intervals must be"):
        viz.error_bars([(0.5, 0.6, 0.7)])
