"""Chapter 4: the recurrence, its refusals, receptive fields per pass, repairs, damaged starts."""

import pytest
import torch
import torch.nn.functional as F

from utils.chapters.iterative_refinement import draw_refinement, pass_fields, receptive_field_by_iteration, repair_counts
from utils.data import NUM_CLASSES, Shapes, damage, one_hot
from utils.models import RecurrentCNN, UntiedCNN
from utils.models.multiscale import gaussian_pyramid
from utils.receptive_field import CANVAS, measured_field


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return RecurrentCNN(NUM_CLASSES).eval()


def test_every_pass_uses_the_same_f_on_image_and_previous_labels(net):
    images = torch.rand(2, 3, 32, 32)
    small = gaussian_pyramid(images, 2)[1]
    with torch.no_grad():
        scores = net(images, 3)
        labels = torch.zeros(2, NUM_CLASSES, 16, 16)
        for t in range(3):
            half = net.f(torch.cat([small, labels], 1))
            torch.testing.assert_close(scores[t], F.interpolate(half, size=(32, 32), mode="bilinear"))
            labels = half.softmax(1)
    assert len(net(images, 5)) == 5
    torch.testing.assert_close(net.segment(images), net(images)[-1])


def test_the_recurrence_refuses_impossible_settings(net):
    images = torch.rand(1, 3, 16, 16)
    with pytest.raises(ValueError, match="iterations"):
        net(images, 0)
    with pytest.raises(ValueError, match="start must have shape"):
        net(images, 2, torch.full((1, NUM_CLASSES, 8, 8), 1 / NUM_CLASSES))
    with pytest.raises(ValueError, match="probabilities"):
        net(images, 2, torch.full((1, NUM_CLASSES, 16, 16), 0.5))
    start = torch.full((1, NUM_CLASSES, 16, 16), 1 / NUM_CLASSES)
    assert len(net(images, 2, start)) == 2


def test_each_pass_adds_the_window_on_the_half_size_grid():
    assert pass_fields() == (31, 26)
    assert receptive_field_by_iteration(4) == [31, 57, 83, 109]
    with pytest.raises(ValueError, match="iterations"):
        receptive_field_by_iteration(0)


def test_damage_flips_blocks_to_wrong_classes():
    truth = Shapes("test", 1)[0][1]["semantic"]
    damaged = damage(truth, blocks=3, size=8, seed=1)
    changed = damaged != truth
    assert 0 < changed.sum() <= 3 * 64
    assert torch.equal(damage(truth, blocks=3, size=8, seed=1), damaged)
    assert torch.equal(damage(truth, blocks=0), truth)
    probs = one_hot(damaged)
    assert probs.shape == (NUM_CLASSES, 64, 64) and torch.equal(probs.argmax(0), damaged)


def test_repair_counts():
    truth = torch.tensor([0, 1, 2, 3])
    before = torch.tensor([0, 0, 2, 1])
    after = torch.tensor([1, 1, 2, 2])
    assert repair_counts(before, after, truth) == {"fixed": 1, "broken": 1, "changed, still wrong": 1}


def test_widget_refuses_impossible_settings():
    with pytest.raises(ValueError, match="iterations"):
        draw_refinement(0, 0)
    with pytest.raises(ValueError, match="start"):
        draw_refinement(0, 2, "oracle")


def test_each_pass_widens_the_measured_window_and_no_label_sees_the_whole_image():
    """Measured by autograd on an untrained network: without a normalisation that pools over the image, the
    window after t passes is finite and grows by the same amount each pass (what chapter 4 glues)."""
    net = RecurrentCNN(NUM_CLASSES, instances=3).eval()
    fields = [measured_field(lambda x, t=t: net(x, t)[-1]) for t in (1, 2, 3)]
    assert fields[0] == 35 and fields[1] - fields[0] == fields[2] - fields[1] == 32, fields
    assert fields[-1] < CANVAS and fields[0] > receptive_field_by_iteration(1)[0]


def test_the_untied_control_has_one_network_per_pass_and_refuses_a_fourth():
    net = UntiedCNN(NUM_CLASSES, instances=3).eval()
    images = torch.rand(1, 3, 32, 32)
    assert len(net(images)) == 3 and len({id(f) for f in net.fs}) == 3 and not hasattr(net, "f")
    with pytest.raises(ValueError, match="iterations"):
        net(images, 4)
