"""Exercise starters leave the work to the reader: every starter cell, run as shipped, gets "not yet" from its checker."""

import ast
import functools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from utils.models import FCN8s, Upsample
from utils.models.patchnet import PATCH_SIZE, pad_for_patches
from utils.reader import exercises

LECTURES = Path(__file__).resolve().parents[1] / "lectures"
CHAPTERS = sorted(p for p in LECTURES.glob("0*.ipynb"))


def starter_cells(path: Path) -> list[str]:
    """Code cells that call an exercise checker (``check_...`` or ``compare``)."""
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"
            and any(f"{name}(" in "".join(c["source"]) for name in dir(exercises) if name.startswith("check_"))]


def run_cell(source: str, namespace: dict):
    """Execute a cell; return the value of its last expression, as a notebook would display it."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None


@pytest.mark.parametrize("path", [p for p in CHAPTERS if starter_cells(p)], ids=lambda p: p.name)
def test_no_starter_passes_its_own_checker(path):
    namespace = {"torch": torch, "nn": nn, "np": np, "FCN8s": FCN8s, "Upsample": Upsample,
                 "pad_for_patches": pad_for_patches, "PATCH_SIZE": PATCH_SIZE}
    for source in starter_cells(path):
        result = run_cell(source, namespace)
        assert isinstance(result, str) and result.startswith("not yet"), f"{path.name}: {source[:60]!r} -> {result!r}"


def test_the_checkers_accept_the_solutions():
    assert exercises.check_pyramid_fields([14, 31, 65]).startswith("correct")
    assert exercises.check_refinement_field(99, passes=3).startswith("correct")
    assert exercises.check_refinement_field(83, passes=3).startswith("not yet"), "the layer rule's number"
    assert exercises.check_ap_by_hand([True, False, True], 0.835).startswith("correct")
    assert exercises.check_ap_by_hand([True, True, True], 0.835).startswith("not yet")
    assert exercises.check_bilinear_kernel(1 - (torch.arange(8) - 3.5).abs() / 4).startswith("correct")
    assert exercises.check_fcn8s_output_size(128).startswith("correct")
    assert exercises.check_checkerboard({(3, 2): True, (4, 2): False, (5, 2): True, (6, 3): False,
                                         (3, 3): False, (5, 3): True}).startswith("correct")


def test_the_fill_in_checkers_of_chapters_1_2_and_6_accept_the_solutions():
    from utils.chapters.patches_to_fcn import sliding_window
    from utils.metrics import match_detections

    def my_miou(cm):
        tp, union = cm.diag().double(), cm.sum(0) + cm.sum(1) - cm.diag()
        return (tp[union > 0] / union[union > 0]).mean().item()

    def my_stretch(x, s):
        out = x.new_zeros(x.shape[0], (x.shape[1] - 1) * s + 1, (x.shape[2] - 1) * s + 1)
        out[:, ::s, ::s] = x
        return out

    assert exercises.check_miou_from_confusion(my_miou).startswith("correct: and the pitfall")
    assert exercises.check_matching(match_detections).startswith("correct")
    assert exercises.check_sliding_window(sliding_window).startswith("correct")
    assert exercises.check_transpose_size(lambda i, k, s, p, a, d: (i - 1) * s - 2 * p + d * (k - 1) + a + 1
                                          ).startswith("correct")
    assert exercises.check_stretch(my_stretch).startswith("correct")


def test_the_fill_in_checkers_of_chapters_3_and_4_accept_the_solutions():
    import torch.nn.functional as F
    from torchvision.transforms.v2.functional import gaussian_blur

    def reduce(images):
        return gaussian_blur(images, [5, 5], [1.0, 1.0])[..., ::2, ::2]

    def my_field(model, size=96):
        with torch.enable_grad():
            images = torch.rand(1, 3, size, size, requires_grad=True)
            model(images)[0, :, size // 2, size // 2].sum().backward()
            reached = images.grad[0].abs().sum(0) > 0
        rows, cols = reached.any(1).nonzero(), reached.any(0).nonzero()
        return int(max(rows.max() - rows.min(), cols.max() - cols.min())) + 1

    def one_pass(net, small, labels, t):
        scores = net.f(torch.cat([small, labels], dim=1), t)
        return scores, scores.softmax(dim=1)

    def my_loss(scores_by_pass, semantic):
        return torch.stack([F.cross_entropy(s, semantic) for s in scores_by_pass]).mean()

    assert exercises.check_reduce(reduce).startswith("correct")
    assert exercises.check_reduce(lambda images: images[..., ::2, ::2]).startswith("not yet"), "no blur"
    assert exercises.check_autograd_field(my_field).startswith("correct")
    assert exercises.check_one_pass(one_pass).startswith("correct")
    assert exercises.check_recurrent_loss(my_loss).startswith("correct")
    assert "last pass" in exercises.check_recurrent_loss(lambda s, y: F.cross_entropy(s[-1], y))


def test_the_fill_in_checkers_of_chapter_7_accept_the_solutions():
    from torchvision.ops import roi_align

    from utils.metrics import mask_iou
    from utils.models.sds import CROP_SIZE

    def my_nms(masks, scores, threshold):
        ious, keep = mask_iou(masks, masks), []
        for i in torch.argsort(scores, descending=True).tolist():
            if all(ious[i, j] <= threshold for j in keep):
                keep.append(i)
        return torch.tensor(keep)

    def my_crop(image, masks, boxes, size=CROP_SIZE, blank=True):
        box_crops = roi_align(image[None], [boxes], size, sampling_ratio=2, aligned=True)
        indexed = torch.cat([torch.arange(len(boxes), dtype=boxes.dtype)[:, None], boxes], 1)
        inside = roi_align(masks[:, None].float(), indexed, size, sampling_ratio=2, aligned=True)
        return box_crops * (inside > 0.5) if blank else box_crops

    assert exercises.check_mask_nms(my_nms).startswith("correct")
    assert exercises.check_mask_nms(lambda m, s, t: torch.argsort(s, descending=True)).startswith("not yet")
    assert exercises.check_region_crop(my_crop).startswith("correct")
    assert exercises.check_region_crop(lambda *a: my_crop(*a, blank=False)).startswith("not yet"), "box crop"


def test_the_fcn4s_checker_tells_a_working_model_from_a_broken_one():
    from utils.models.fcn import score_layer

    class FCN4s(FCN8s):
        def __init__(self, num_classes):
            super().__init__(num_classes)
            self.upscore_pool3 = Upsample(num_classes, 2)
            self.score_pool2 = score_layer(self.backbone.channels[1], num_classes)
            self.upscore4 = Upsample(num_classes, 4)

        def stages(self, x):
            s = super().stages(x)
            features = self.backbone(x)
            s["fuse_pool2"] = self.upscore_pool3(s["fuse_pool3"]) + self.score_pool2(features["pool2"])
            s["out"] = self.upscore4(s["fuse_pool2"])
            return s

    assert exercises.check_fcn4s(FCN4s).startswith("correct")
    assert exercises.check_fcn4s(FCN8s).startswith("not yet")


def test_feedback_shows_as_plain_text_in_a_notebook():
    """A checker's answer is the last value of a cell: its repr is what the reader sees, so no quotes."""
    answer = exercises.check_receptive_field(0, [("conv", 3, 1)])
    assert repr(answer) == str(answer) and answer.startswith("not yet")


def test_the_fill_in_checkers_of_chapter_8_accept_the_solutions_and_refuse_near_misses():
    def pool(features, score):
        weights = score(features).flatten(1).softmax(1)
        return (weights[:, None, :] * features.flatten(2)).sum(2)

    def zoom(box, size):
        scale = (box[2] - box[0]) / size
        cx, cy = (box[0] + box[2]) / size - 1, (box[1] + box[3]) / size - 1
        return torch.tensor([[scale, 0.0, cx], [0.0, scale, cy]])

    assert exercises.check_attention_pool(pool).startswith("correct")
    assert exercises.check_attention_pool(lambda f, s: f.mean((2, 3))).startswith("not yet: that is average pooling")
    assert exercises.check_zoom_theta(zoom).startswith("correct")
    half_pixel_off = lambda box, size: zoom(box, size) + torch.tensor([[0, 0, 1 / size], [0, 0, 0]])  # noqa: E731
    assert exercises.check_zoom_theta(half_pixel_off).startswith("not yet")
    assert exercises.check_reinforce(lambda lp, r, b: -((r - b) * lp).mean()).startswith("correct")
    assert exercises.check_reinforce(lambda lp, r, b: -(r * lp).mean()).startswith("not yet"), "ignores the baseline"


def test_the_fill_in_checkers_of_chapter_9_accept_the_solutions():
    from utils.imbalance import soft_dice_loss
    from utils.metrics import confusion_matrix, iou_from_confusion

    def my_dataset_miou(predictions, labels, num_classes):
        return iou_from_confusion(confusion_matrix(predictions, labels, num_classes, ignore_index=255)).nanmean().item()

    def per_scene(predictions, labels, num_classes):
        return np.mean([my_dataset_miou(p[None], t[None], num_classes) for p, t in zip(predictions, labels)])

    assert exercises.check_dataset_miou(my_dataset_miou).startswith("correct")
    assert "per-scene" in exercises.check_dataset_miou(per_scene)
    assert "void" in exercises.check_dataset_miou(
        lambda p, t, c: my_dataset_miou(p, t.where(t != 255, 0), c))
    assert exercises.check_dice_loss(soft_dice_loss).startswith("correct")
    assert exercises.check_dice_loss(lambda s, t: soft_dice_loss(s, t, smooth=0.0)).startswith("not yet")


def _crop(image, mask, size, generator, high_extra=1, same_window=True, left_first=False):
    """A reader's joint crop, right by default; each argument is one mistake the checker must name."""
    sides = mask.shape[::-1] if left_first else mask.shape
    first, second = (int(torch.randint(0, side - size + high_extra, (1,), generator=generator)) for side in sides)
    top, left = (second, first) if left_first else (first, second)
    mask_top = top if same_window else int(torch.randint(0, mask.shape[0] - size + 1, (1,), generator=generator))
    return image[:, top:top + size, left:left + size], mask[mask_top:mask_top + size, left:left + size]


def test_the_joint_crop_checker_names_each_mistake():
    assert exercises.check_joint_crop(_crop).startswith("correct")
    assert "bottom or right edge" in exercises.check_joint_crop(functools.partial(_crop, high_extra=0))
    assert "mask's window" in exercises.check_joint_crop(functools.partial(_crop, same_window=False))
    assert "drawn another way" in exercises.check_joint_crop(functools.partial(_crop, left_first=True))
    assert "same window" in exercises.check_joint_crop(lambda i, m, s, g: (i[:, :s, :s], m[:s, :s]))
    resampled = lambda i, m, s, g: _crop(i, m.float(), s, g)  # noqa: E731
    assert "never resample" in exercises.check_joint_crop(resampled)
    assert exercises.check_joint_crop(lambda i, m, s, g: None).startswith("not yet: return")
