"""The demo networks: shapes, the FCN paper's initialisation, bilinear upsampling, skip switches."""

import pytest
import torch
import torch.nn.functional as F

from utils.data import NUM_CLASSES
from utils.models import LIMITATIONS, ZOO, FCN8s, FCN16s, FCN32s, Upsample, bilinear_kernel
from utils.models.backbone import Backbone


@pytest.mark.parametrize("model", [FCN32s, FCN16s, FCN8s])
def test_fcn_output_has_the_input_resolution(model):
    net = model(NUM_CLASSES).eval()
    with torch.no_grad():
        stages = net.stages(torch.rand(2, 3, 64, 96))
    assert stages["out"].shape == (2, NUM_CLASSES, 64, 96)
    assert stages["score_fr"].shape[-2:] == (2, 3)


def test_backbone_strides_and_refusal():
    features = Backbone()(torch.rand(1, 3, 64, 64))
    assert [features[f"pool{k}"].shape[-1] for k in range(1, 6)] == [32, 16, 8, 4, 2]
    with pytest.raises(ValueError, match="multiples of 32"):
        Backbone()(torch.rand(1, 3, 50, 64))


def test_new_skips_start_at_zero_so_16s_starts_as_32s():
    torch.manual_seed(0)
    net16 = FCN16s(NUM_CLASSES).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        with_skip = net16.stages(x)["fuse_pool4"]
        without = net16.stages(x, skip_pool4=False)["fuse_pool4"]
    torch.testing.assert_close(with_skip, without)


def test_skip_switch_changes_a_trained_skip():
    torch.manual_seed(0)
    net = FCN8s(NUM_CLASSES).eval()
    torch.nn.init.normal_(net.score_pool3.weight)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(net(x), net(x, skip_pool3=False))


@pytest.mark.parametrize("factor", [2, 4, 8, 16, 32])
def test_bilinear_initialisation_is_bilinear_interpolation(factor):
    x = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        up = Upsample(3, factor)(x)
    reference = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
    assert up.shape == reference.shape
    assert (up - reference)[..., factor:-factor, factor:-factor].abs().max() < 1e-5


def test_bilinear_kernel_values_and_refusals():
    torch.testing.assert_close(bilinear_kernel(4)[0], torch.tensor([0.0625, 0.1875, 0.1875, 0.0625]))
    assert bilinear_kernel(3)[1, 1] == 1.0
    with pytest.raises(ValueError, match="size"):
        bilinear_kernel(0)
    with pytest.raises(ValueError, match="factor"):
        Upsample(3, 3)


def test_fixed_upsampling_is_frozen():
    net = FCN8s(NUM_CLASSES, learnable_upsampling=False)
    frozen = [m for m in net.modules() if isinstance(m, Upsample)]
    assert len(frozen) == 3 and not any(m.weight.requires_grad for m in frozen)
    assert all(m.learnable for m in FCN8s(NUM_CLASSES).modules() if isinstance(m, Upsample))


def test_zoo_dependencies_come_first():
    names = list(ZOO)
    for name, spec in ZOO.items():
        if spec.init_from:
            assert names.index(spec.init_from) < names.index(name)


def test_every_zoo_model_says_what_it_cannot_do():
    """The model card prints one limitations line per model: a model added to the zoo without one fails here."""
    assert set(LIMITATIONS) == set(ZOO)
    assert all(text.endswith(".") and len(text) > 30 for text in LIMITATIONS.values())
