"""Chapter 1's helpers: the classical coins pipeline, degraded predictions, the figures and the widget layer."""

import ipywidgets
import matplotlib.figure
import numpy as np
import pytest
import torch
from skimage import data as skdata

from utils import viz
from utils.chapters.segmentation_tasks import (
    class_presence,
    degrade,
    draw_degraded,
    draw_tasks,
    find_scene,
    quiet_miss,
    score,
    touching_same_class,
)
from utils.classical import coin_mask, remove_small_regions, split_instances
from utils.data import NUM_CLASSES, Shapes
from utils.reader.exercises import check_biggest_drop, check_iou
from utils.reader.widgets import interactive_figure


@pytest.fixture(scope="module")
def scene():
    return Shapes("val", 8)[3]


def test_coins_are_found_one_by_one():
    photo = skdata.coins()
    mask = coin_mask(photo)
    instances = split_instances(mask)
    assert 20 <= instances.max() <= 26
    assert 0.2 < mask.mean() < 0.5
    assert set(np.unique(instances[~mask])) == {0}


def test_coin_thresholds_are_checked():
    with pytest.raises(ValueError, match="dark < bright"):
        coin_mask(skdata.coins(), dark=200, bright=100)


def test_remove_small_regions():
    mask = np.zeros((10, 10), bool)
    mask[0, 0] = True
    mask[4:8, 4:8] = True
    kept = remove_small_regions(mask, 4)
    assert not kept[0, 0] and kept[4:8, 4:8].all()


def test_degrade_without_damage_is_the_ground_truth(scene):
    _, target = scene
    prediction = degrade(target)
    assert torch.equal(prediction["semantic"], target["semantic"])
    assert score(prediction, target) == {"pixel accuracy": 1.0, "mIoU": 1.0, "mask AP50": 1.0, "mask AP75": 1.0}


def test_each_damage_hurts_what_it_should(scene):
    _, target = scene
    dropped = int(target["labels"][0])
    miss = score(degrade(target, drop_class=dropped), target)
    assert miss["mIoU"] < 1.0 and miss["mask AP50"] < 1.0
    scrambled = degrade(target, flip=0.3)
    assert score(scrambled, target)["pixel accuracy"] < 0.9
    assert score(scrambled, target)["mask AP50"] == 1.0, "mask AP only looks at instance masks"
    shifted = degrade(target, shift=3)
    assert not torch.equal(shifted["masks"], target["masks"])


def test_merge_fuses_two_instances(scene):
    _, target = scene
    merged = degrade(target, merge=True)
    assert len(merged["labels"]) == len(target["labels"]) - 1
    assert merged["masks"].sum() == target["masks"].sum()


@pytest.mark.parametrize("kwargs, word", [({"flip": 1.5}, "flip"), ({"drop_class": 9}, "drop_class"),
                                          ({"shift": -1}, "shift")])
def test_degrade_refuses_impossible_settings(scene, kwargs, word):
    with pytest.raises(ValueError, match=word):
        degrade(scene[1], **kwargs)


def test_touching_scenes_are_found():
    data = Shapes("val", 64)
    index = find_scene(data, touching_same_class)
    target = data[index][1]
    assert touching_same_class(target)
    assert class_presence(target).sum() < len(target["labels"]), "two objects share a class"


def test_figures_draw(scene):
    image, target = scene
    assert len(draw_tasks(image, target).axes) == 3
    assert len(draw_degraded(index=2, grow=1).axes) == 4
    fig = viz.grid([[image, target["semantic"]]], titles=["a", "b"])
    assert len(fig.axes) == 2 and fig.legends


def test_overlay_colours_objects_and_keeps_background(scene):
    image, target = scene
    blended = viz.overlay(image, target["semantic"], alpha=1.0)
    assert blended.shape == (64, 64, 3)
    foreground = target["semantic"].numpy() > 0
    np.testing.assert_allclose(blended[~foreground], viz.image_to_rgb(image)[~foreground])
    np.testing.assert_allclose(blended[foreground], viz.colorize(target["semantic"])[foreground] / 255.0)
    with pytest.raises(ValueError, match="alpha"):
        viz.overlay(image, target["semantic"], alpha=2.0)


def test_colorize_refuses_out_of_range_labels():
    with pytest.raises(ValueError, match="labels"):
        viz.colorize(np.array([[0, NUM_CLASSES]]))


def test_widget_shows_the_message_of_an_impossible_setting():
    def draw(value=1):
        if value > 1:
            raise ValueError("value must be at most 1")
        return matplotlib.figure.Figure()

    control = ipywidgets.IntSlider(value=1, min=0, max=3)
    widget = interactive_figure(draw, value=control)
    message = widget.children[-2]
    assert message.value == ""
    control.value = 3
    assert "value must be at most 1" in message.value
    control.value = 0
    assert message.value == ""


def test_exercise_checkers():
    a = torch.tensor([[1, 1], [0, 0]], dtype=torch.bool)
    b = torch.tensor([[1, 0], [1, 0]], dtype=torch.bool)
    assert check_iou(1 / 3, a, b).startswith("correct")
    assert check_iou(0.5, a, b).startswith("not yet")
    assert check_biggest_drop("mask AP75", shift=2).startswith("correct")
    assert check_biggest_drop("pixel accuracy", shift=2).startswith("not yet")
    assert check_biggest_drop("banana", shift=2).startswith("not yet")


def test_quiet_miss_finds_a_class_that_pixel_accuracy_barely_notices():
    data = Shapes("val", 16)
    index, cls = quiet_miss(data)
    target = data[index][1]
    assert cls in target["labels"].tolist()
    result = score(degrade(target, drop_class=cls), target)
    assert result["pixel accuracy"] - result["mIoU"] > 0.1
