"""The code the chapters write out for the reader (cells tagged ``reader-code``) agrees with ``utils``."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import metrics
from utils.chapters.segmentation_tasks import degrade
from utils.data import NUM_CLASSES, Shapes

LECTURES = Path(__file__).resolve().parents[1] / "lectures"


def reader_code(chapter: str, names: dict | None = None) -> dict:
    """Execute the chapter's ``reader-code`` cells (with ``names`` in scope) and return what they define."""
    cells = json.loads((LECTURES / f"{chapter}.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if "reader-code" in c["metadata"].get("tags", [])]
    assert sources, f"{chapter} has no reader-code cell"
    namespace = {"torch": torch, "np": np, **(names or {})}
    for source in sources:
        exec(source, namespace)
    return namespace


@pytest.fixture(scope="module")
def chapter1():
    return reader_code("01_segmentation_tasks")


@pytest.mark.parametrize("seed", range(4))
def test_chapter1_semantic_metrics(chapter1, seed):
    g = torch.Generator().manual_seed(seed)
    true = torch.randint(NUM_CLASSES, (3, 16, 16), generator=g)
    pred = torch.where(torch.rand(3, 16, 16, generator=g) < 0.7, true, torch.randint(3, (3, 16, 16), generator=g))
    cm = chapter1["confusion"](pred, true, NUM_CLASSES)
    assert torch.equal(cm, metrics.confusion_matrix(pred, true, NUM_CLASSES))
    assert chapter1["pixel_accuracy"](cm) == pytest.approx(metrics.pixel_accuracy(pred, true))
    assert chapter1["mean_iou"](cm) == pytest.approx(metrics.mean_iou(pred, true, NUM_CLASSES))
    torch.testing.assert_close(chapter1["iou_per_class"](cm), metrics.iou_per_class(pred, true, NUM_CLASSES),
                               equal_nan=True)


@pytest.mark.parametrize("degradation", [{"shift": 1}, {"grow": -1, "shift": 2}, {"grow": 2, "merge": True},
                                         {"drop_class": 2, "shift": 3}])
def test_chapter1_mask_ap(chapter1, degradation):
    targets = [Shapes("test", 24)[i][1] for i in range(24)]
    predictions = [degrade(t, seed=i, **degradation) for i, t in enumerate(targets)]
    classes = sorted({int(c) for t in targets for c in t["labels"]})
    expected = metrics.mask_average_precision(predictions, targets, (0.5, 0.75))
    for threshold, key in ((0.5, "ap50"), (0.75, "ap75")):
        ours = np.mean([chapter1["mask_ap"](predictions, targets, c, threshold) for c in classes])
        assert ours == pytest.approx(expected[key], abs=1e-9)


def test_chapter1_mask_iou(chapter1):
    target = Shapes("test", 1)[0][1]
    torch.testing.assert_close(chapter1["mask_iou"](target["masks"], target["masks"]),
                               metrics.mask_iou(target["masks"], target["masks"]))


@pytest.fixture(scope="module")
def chapter2():
    from utils.models.patchnet import FC_INPUT, PATCH_SIZE, pad_for_patches

    names = {"F": torch.nn.functional, "nn": torch.nn, "pad_for_patches": pad_for_patches,
             "PATCH_SIZE": PATCH_SIZE, "FC_INPUT": FC_INPUT, "NUM_CLASSES": NUM_CLASSES}
    return reader_code("02_patches_to_fcn", names)


@pytest.fixture(scope="module")
def patchnet():
    from utils.models.patchnet import PatchNet

    torch.manual_seed(0)
    return PatchNet(NUM_CLASSES).eval()


def test_chapter2_sliding_window(chapter2, patchnet):
    from utils.chapters.patches_to_fcn import sliding_window

    image = Shapes("test", 1, image_size=32)[0][0]
    with torch.no_grad():
        for stride in (1, 4):
            torch.testing.assert_close(chapter2["sliding_window"](patchnet, image, stride),
                                       sliding_window(patchnet, image, stride))


def test_chapter2_convolutionalize_is_the_dense_network(chapter2, patchnet):
    from utils.models.patchnet import pad_for_patches

    padded = pad_for_patches(Shapes("test", 2, image_size=40).batch(range(2))[0])
    with torch.no_grad():
        torch.testing.assert_close(chapter2["convolutionalize"](patchnet)(padded), patchnet.dense(padded))


def test_chapter2_receptive_field_table(chapter2, patchnet):
    from utils.chapters.patches_to_fcn import patchnet_layers, receptive_fields

    layers = patchnet_layers(patchnet) + [("extra pool", 2, 2), ("extra conv", 5, 1)]
    assert chapter2["receptive_field_table"](layers) == receptive_fields(layers)


def test_chapter2_pixel_cross_entropy(chapter2):
    g = torch.Generator().manual_seed(1)
    scores = torch.randn(3, NUM_CLASSES, 5, 7, generator=g)
    labels = torch.randint(NUM_CLASSES, (3, 5, 7), generator=g)
    labels[0, 0] = 255
    weight = torch.rand(NUM_CLASSES, generator=g) + 0.1
    for w in (None, weight):
        torch.testing.assert_close(chapter2["pixel_cross_entropy"](scores, labels, w),
                                   torch.nn.functional.cross_entropy(scores, labels, weight=w, ignore_index=255))


def test_chapter3_weight_sharing_is_the_utils_model():
    from torchvision.transforms.v2.functional import gaussian_blur

    from utils.models import MultiscaleCNN

    chapter3 = reader_code("03_multiscale", {"F": torch.nn.functional, "gaussian_blur": gaussian_blur})
    torch.manual_seed(0)
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        for levels in (1, 3):
            net = MultiscaleCNN(NUM_CLASSES, levels=levels).eval()
            torch.testing.assert_close(chapter3["multiscale_scores"](net, images, levels), net(images))


def test_chapter4_recurrence_is_the_utils_model():
    from utils.models import RecurrentCNN
    from utils.models.multiscale import gaussian_pyramid

    chapter4 = reader_code("04_iterative_refinement", {"F": torch.nn.functional, "NUM_CLASSES": NUM_CLASSES,
                                                        "gaussian_pyramid": gaussian_pyramid})
    torch.manual_seed(0)
    net = RecurrentCNN(NUM_CLASSES).eval()
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        for mine, theirs in zip(chapter4["refine"](net, images, 4), net(images, 4)):
            torch.testing.assert_close(mine, theirs)


def test_chapter6_zero_insertion_is_the_transposed_convolution():
    from utils.arithmetic import conv_transpose2d_zero_insertion

    chapter6 = reader_code("06_deconvolution_arithmetic", {"F": torch.nn.functional, "g": torch.Generator().manual_seed(0),
                                                            "glue_agreement": lambda *a: None})
    g = torch.Generator().manual_seed(2)
    for k, s, p, a in [(3, 2, 1, 1), (4, 2, 1, 0), (3, 1, 0, 0), (5, 3, 4, 2)]:
        x, w = torch.randn(2, 4, 6, generator=g), torch.randn(2, 3, k, k, generator=g)
        reference = torch.nn.functional.conv_transpose2d(x[None], w, stride=s, padding=p, output_padding=a)[0]
        torch.testing.assert_close(chapter6["zero_insertion"](x, w, s, p, a), reference, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(conv_transpose2d_zero_insertion(x, w, s, p, a), reference, atol=1e-5, rtol=1e-5)


def test_chapter9_focal_loss_is_utils():
    import torch.nn.functional as F

    from utils.data import VOID
    from utils.imbalance import focal_loss

    focal = reader_code("09_your_own_data", {"F": F})["focal"]
    g = torch.Generator().manual_seed(0)
    scores, labels = torch.randn(2, NUM_CLASSES, 6, 6, generator=g), torch.randint(NUM_CLASSES, (2, 6, 6), generator=g)
    labels[1, :, :2] = VOID
    for gamma in (0.0, 1.0, 2.0):
        torch.testing.assert_close(focal(scores, labels, gamma), focal_loss(scores, labels, gamma))
