"""``utils.metrics`` against independent implementations: torchmetrics and pycocotools."""

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torchmetrics.functional.classification import multiclass_confusion_matrix
from torchmetrics.functional.segmentation import mean_iou as tm_mean_iou

from utils.data import Shapes
from utils.metrics import (
    confusion_matrix,
    iou_per_class,
    mask_average_precision,
    mask_iou,
    match_detections,
    mean_iou,
    pixel_accuracy,
    recall_by_size,
)

C = 6


def random_maps(seed, shape=(4, 32, 32), num_classes=C, agree=0.6):
    g = torch.Generator().manual_seed(seed)
    target = torch.randint(num_classes, shape, generator=g)
    noise = torch.randint(num_classes, shape, generator=g)
    pred = torch.where(torch.rand(shape, generator=g) < agree, target, noise)
    return pred, target


@pytest.mark.parametrize("seed", range(5))
def test_confusion_matrix_matches_torchmetrics(seed):
    pred, target = random_maps(seed)
    expected = multiclass_confusion_matrix(pred.flatten(), target.flatten(), C)
    assert torch.equal(confusion_matrix(pred, target, C), expected)


def test_confusion_matrix_rows_are_targets():
    cm = confusion_matrix(torch.tensor([1, 1, 2]), torch.tensor([0, 1, 1]), 3)
    assert cm.tolist() == [[0, 1, 0], [0, 1, 1], [0, 0, 0]]


def test_ignore_index_drops_pixels():
    pred, target = torch.tensor([1, 2, 0]), torch.tensor([1, 255, 0])
    assert confusion_matrix(pred, target, 3, ignore_index=255).sum() == 2
    assert pixel_accuracy(pred, target, ignore_index=255) == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_pixel_accuracy(seed):
    pred, target = random_maps(seed)
    assert pixel_accuracy(pred, target) == pytest.approx((pred == target).double().mean().item())


@pytest.mark.parametrize("seed", range(5))
def test_mean_iou_matches_torchmetrics(seed):
    # Some classes missing from both maps: they must not count (torchmetrics' per-image mean skips them too).
    pred, target = random_maps(seed, shape=(1, 24, 24), num_classes=4)
    ours = mean_iou(pred, target, C)
    theirs = tm_mean_iou(pred, target, num_classes=C, input_format="index", per_class=False)
    assert ours == pytest.approx(theirs.item(), abs=1e-6)


def test_iou_per_class_edge_cases():
    target = torch.tensor([[0, 0], [1, 1]])
    iou = iou_per_class(target.clone(), target, 3)
    assert iou[:2].tolist() == [1.0, 1.0] and torch.isnan(iou[2])
    assert mean_iou(target.clone(), target, 3) == 1.0
    # A class only in the prediction counts, with IoU 0.
    pred = torch.tensor([[0, 2], [1, 1]])
    assert iou_per_class(pred, target, 3)[2] == 0.0
    assert mean_iou(pred, target, 3) == pytest.approx((0.5 + 1 + 0) / 3)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        mean_iou(torch.zeros(2, 2, dtype=torch.long), torch.zeros(3, 3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(torch.tensor([5]), torch.tensor([0]), 3)


def test_mask_iou_pairwise():
    a = torch.zeros(2, 4, 4, dtype=torch.bool)
    a[0, :2] = True
    a[1, :, :1] = True
    b = torch.zeros(3, 4, 4, dtype=torch.bool)
    b[0, :2] = True
    b[1, :1] = True
    iou = mask_iou(a, b)
    assert iou.shape == (2, 3)
    assert iou[0].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert iou[1, 0] == pytest.approx(2 / 10)


def test_mask_iou_matches_pycocotools():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(5, 20, 20, generator=g) > 0.5, torch.rand(4, 20, 20, generator=g) > 0.6
    rle = lambda m: mask_utils.encode(np.asfortranarray(m.numpy().astype(np.uint8).transpose(1, 2, 0)))
    theirs = mask_utils.iou(rle(a), rle(b), [0] * len(b))
    np.testing.assert_allclose(mask_iou(a, b).numpy(), theirs, atol=1e-12)


def test_match_detections_is_greedy_by_score():
    ious = np.array([[0.6, 0.7], [0.0, 0.8]])
    assert match_detections(ious, 0.5).tolist() == [1, -1]
    assert match_detections(ious, 0.75).tolist() == [-1, 1]


def coco_ap(predictions, targets):
    """AP, AP50, AP75 from pycocotools' COCOeval on the same masks."""
    images, annotations, detections = [], [], []
    height, width = targets[0]["masks"].shape[-2:]
    for i, (pred, target) in enumerate(zip(predictions, targets)):
        images.append({"id": i, "height": height, "width": width})
        for m, c in zip(target["masks"], target["labels"]):
            rle = mask_utils.encode(np.asfortranarray(m.numpy().astype(np.uint8)))
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": int(c), "segmentation": rle,
                                "area": float(m.sum()), "bbox": list(mask_utils.toBbox(rle)), "iscrowd": 0})
        for m, c, s in zip(pred["masks"], pred["labels"], pred["scores"]):
            rle = mask_utils.encode(np.asfortranarray(m.numpy().astype(np.uint8)))
            detections.append({"image_id": i, "category_id": int(c), "segmentation": rle, "score": float(s)})
    gt = COCO()
    gt.dataset = {"images": images, "annotations": annotations, "categories": [{"id": c} for c in range(1, C)]}
    gt.createIndex()
    evaluator = COCOeval(gt, gt.loadRes(detections), "segm")
    evaluator.params.areaRng, evaluator.params.areaRngLbl = [[0, 1e10]], ["all"]
    evaluator.evaluate()
    evaluator.accumulate()
    precision = evaluator.eval["precision"][:, :, :, 0, -1]  # (T, R, K)
    per_threshold = [np.mean([p[:, k].mean() for k in range(p.shape[1]) if p[0, k] > -1]) for p in precision]
    return {"ap": float(np.mean(per_threshold)), "ap50": per_threshold[0], "ap75": per_threshold[5]}


def degraded_predictions(seed, n=25):
    """Ground-truth scenes with predictions made worse: shifted, eroded, relabelled, missed, invented."""
    rng = np.random.default_rng(seed)
    targets = [Shapes("val", n, seed=seed)[i][1] for i in range(n)]
    predictions = []
    for t in targets:
        masks = t["masks"].clone()
        for k in range(len(masks)):
            masks[k] = torch.roll(masks[k], shifts=tuple(rng.integers(-3, 4, 2).tolist()), dims=(0, 1))
        labels = torch.where(torch.from_numpy(rng.random(len(masks)) < 0.2), torch.randint(1, C, (len(masks),)), t["labels"])
        keep = torch.from_numpy(rng.random(len(masks)) > 0.1)
        spurious = torch.from_numpy(rng.random((1,) + masks.shape[1:]) > 0.97)
        predictions.append({
            "masks": torch.cat([masks[keep], spurious]),
            "labels": torch.cat([labels[keep], torch.tensor([int(rng.integers(1, C))])]),
            "scores": torch.from_numpy(rng.random(int(keep.sum()) + 1)).float(),
        })
    return predictions, targets


@pytest.mark.parametrize("seed", range(3))
def test_mask_ap_matches_pycocotools(seed):
    predictions, targets = degraded_predictions(seed)
    ours, theirs = mask_average_precision(predictions, targets), coco_ap(predictions, targets)
    for key in ("ap", "ap50", "ap75"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-6), key


def test_mask_ap_perfect_and_empty():
    targets = [Shapes("val", 4)[i][1] for i in range(4)]
    perfect = [{"masks": t["masks"], "labels": t["labels"], "scores": torch.ones(len(t["labels"]))} for t in targets]
    assert mask_average_precision(perfect, targets) == {"ap": 1.0, "ap50": 1.0, "ap75": 1.0}
    empty = [{"masks": t["masks"][:0], "labels": t["labels"][:0], "scores": torch.ones(0)} for t in targets]
    assert mask_average_precision(empty, targets)["ap"] == 0.0


def test_mask_ap_refuses_bad_thresholds():
    with pytest.raises(ValueError, match="iou_thresholds"):
        mask_average_precision([], [], iou_thresholds=[1.5])


def test_recall_by_size_bins_objects_by_the_root_of_their_area():
    small = torch.zeros(1, 8, 8, dtype=torch.bool)
    small[0, :2, :2] = True  # side 2
    large = torch.zeros(1, 8, 8, dtype=torch.bool)
    large[0, :6, :6] = True  # side 6
    targets = [{"masks": small, "labels": torch.tensor([1])}, {"masks": large, "labels": torch.tensor([2])}]
    labels = torch.zeros(2, 8, 8, dtype=torch.long)
    labels[0][small[0]] = 1  # the small object found whole
    labels[1, :3, :6] = 2  # the large one half found
    assert recall_by_size(labels, targets, [0, 4, 8]) == [1.0, 0.5]
    with pytest.raises(ValueError, match="same scenes"):
        recall_by_size(labels[:1], targets, [0, 4, 8])
