"""Checkers for the chapters' exercises: each says "correct" or "not yet", and why.

In the spirit of micrograd's ``cmp``: they never reveal the answer, they say
what is off. Grouped by chapter; every checker names its exercise.
"""

from __future__ import annotations

import numpy as np
import torch

from ..arithmetic import conv_output_size, conv_transpose_output_size, overlap_ratio
from ..augment import joint_random_crop
from ..chapters.attention import reinforce_loss
from ..chapters.iterative_refinement import measured_field_by_pass
from ..chapters.multiscale import iou_without_levels, receptive_field_per_level
from ..chapters.patches_to_fcn import receptive_fields, sliding_window
from ..chapters.segmentation_tasks import degraded_labels, mean_scores
from ..data import CLASS_NAMES, NUM_CLASSES, VOID, Shapes
from ..imbalance import soft_dice_loss
from ..metrics import confusion_matrix, interpolated_ap, iou_from_confusion, match_detections
from ..models.attention import SoftAttentionPool, box_theta
from ..models.multiscale import gaussian_pyramid
from ..models.sds import crops
from ..models.upsampling import bilinear_kernel
from ..receptive_field import measured_field
from ..zoo import checkpoints
from ..zoo.instances import mask_nms
from ..zoo.losses import recurrent_loss


class Feedback(str):
    """A checker's answer: a string that a notebook shows as plain text, not as a quoted repr."""

    def __repr__(self) -> str:
        return str(self)


def verdict(ok: bool, why: str) -> Feedback:
    """The checkers' one output format: ``correct: why`` or ``not yet: why``."""
    return Feedback(f"correct: {why}" if ok else f"not yet: {why}")


def compare(name: str, mine: torch.Tensor, reference: torch.Tensor, atol: float = 1e-6) -> str:
    """``cmp``: is ``mine`` exactly, approximately or not equal to ``reference``, with the largest difference."""
    if mine.shape != reference.shape:
        return verdict(False, f"{name} has shape {tuple(mine.shape)}, expected {tuple(reference.shape)}")
    diff = (mine.double() - reference.double()).abs().max().item() if mine.numel() else 0.0
    if torch.equal(mine, reference):
        return verdict(True, f"{name} is exactly equal")
    return verdict(diff <= atol, f"{name} differs by at most {diff:.2e} (tolerance {atol:.0e})")


def attempt(function, *args) -> tuple[object, str | None]:
    """``function(*args)``, or the error it raised as a "not yet" reason (a starter's ``...`` fails here)."""
    try:
        return function(*args), None
    except Exception as err:  # the reader's code may fail in any way: say how, never crash the checker
        return None, verdict(False, f"your function raised {type(err).__name__}: {err}")


# Chapter 1 -------------------------------------------------------------------

def check_iou(answer: float, pred: torch.Tensor, target: torch.Tensor) -> str:
    """Exercise 1.1: the IoU of two boolean masks, computed by hand."""
    inter, union = (pred & target).sum().item(), (pred | target).sum().item()
    ok = abs(answer - inter / union) < 1e-3
    return verdict(ok, "that is |A and B| / |A or B|" if ok else
                   f"count the pixels in both masks ({inter}) and in either mask, then divide")


def check_biggest_drop(answer: str, **degradation) -> str:
    """Exercise 1.2: which of pixel accuracy, mIoU and mask AP75 falls most under ``degradation``.

    Measured on the chapter's 64 validation scenes with ``utils.chapters.segmentation_tasks.degrade``.
    """
    names = ("pixel accuracy", "mIoU", "mask AP75")
    if answer not in names:
        return verdict(False, f"answer with one of {names}")
    drops = {name: 1.0 - value for name, value in mean_scores(**degradation).items() if name in names}
    worst = max(drops, key=drops.get)
    measured = ", ".join(f"{name} -{drop:.3f}" for name, drop in drops.items())
    return verdict(answer == worst, measured if answer == worst else "run the widget with that error and compare")


def check_miou_from_confusion(my_miou, scenes: int = 64, batch: int = 8) -> str:
    """Exercise 1.3: ``my_miou(cm)`` is the mean IoU over the classes that occur, from one confusion matrix.

    On "correct" it shows the pitfall: the mean of per-batch mIoUs is not the
    data set's mIoU (one confusion matrix summed over every batch).
    """
    cm = torch.tensor([[50, 2, 0, 0], [3, 20, 0, 1], [0, 0, 0, 0], [4, 0, 0, 6]])  # class 2 occurs nowhere
    mine, problem = attempt(my_miou, cm)
    if problem:
        return problem
    expected = iou_from_confusion(cm).nanmean().item()
    if not isinstance(mine, (float, int, torch.Tensor)) or abs(float(mine) - expected) > 1e-6:
        absent = iou_from_confusion(cm).nan_to_num(0.0).mean().item()
        hint = ("a class that occurs in neither the target nor the prediction has no IoU: leave it out of the mean"
                if isinstance(mine, (float, int, torch.Tensor)) and abs(float(mine) - absent) < 1e-6 else
                "IoU = TP / (TP + FP + FN): the diagonal over row sum + column sum - diagonal")
        return verdict(False, hint)
    pred, truth = degraded_labels(scenes)
    confusions = [confusion_matrix(p, t, NUM_CLASSES) for p, t in zip(pred.split(batch), truth.split(batch))]
    per_batch = float(np.mean([float(my_miou(c)) for c in confusions]))
    whole = float(my_miou(torch.stack(confusions).sum(0)))
    return verdict(True, f"and the pitfall: on {scenes} scenes in batches of {batch}, the data set's mIoU (one "
                         f"confusion matrix summed over the batches) is {whole:.4f}, the mean of the per-batch "
                         f"mIoUs {per_batch:.4f}: report the first")


def check_matching(my_match) -> str:
    """Exercise 1.4: ``my_match(ious, threshold)`` is COCO's greedy matching of score-sorted detections."""
    g = torch.Generator().manual_seed(7)
    cases = [torch.rand(d, o, generator=g).numpy() for d, o in ((4, 3), (5, 2), (2, 4), (3, 3))]
    cases.append(np.array([[0.6, 0.9], [0.95, 0.1]]))  # the first detection takes object 1, the second object 0
    for ious in cases:
        for threshold in (0.5, 0.75):
            mine, problem = attempt(my_match, ious, threshold)
            if problem:
                return problem
            expected = match_detections(ious, threshold)
            if not np.array_equal(np.asarray(mine), expected):
                return verdict(False, f"for IoUs\n{np.round(ious, 2)}\nat {threshold}: yours {np.asarray(mine)}, "
                                      f"expected {expected} (best score first; each object matched once)")
    return verdict(True, "each detection, best first, takes the free object it overlaps most, if enough")


# Chapter 2 -------------------------------------------------------------------

def check_fc_as_conv(linear: torch.nn.Linear, conv: torch.nn.Conv2d) -> str:
    """Exercise 2.1: ``conv`` computes what ``linear`` computes on the (C, k, k) map it reads."""
    k = conv.kernel_size[0]
    if conv.in_channels * k * k != linear.in_features or conv.out_channels != linear.out_features:
        return verdict(False, f"the convolution reads {conv.in_channels}x{k}x{k} = {conv.in_channels * k * k} "
                              f"numbers and writes {conv.out_channels}; the linear layer reads "
                              f"{linear.in_features} and writes {linear.out_features}")
    x = torch.randn(1, conv.in_channels, k, k, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return compare("conv output", conv(x).flatten(), linear(x.flatten(1))[0], atol=1e-5)


def check_receptive_field(answer: int, layers: list[tuple[str, int, int]]) -> str:
    """Exercise 2.2: the receptive field of a stack of (name, kernel, stride) layers."""
    field = receptive_fields(layers)[-1][3]
    return verdict(answer == field, "each layer adds (kernel - 1) x the jump so far" if answer == field
                   else "add (kernel - 1) x jump per layer, and multiply the jump by each stride")


def check_sliding_window(my_window, stride: int = 4) -> str:
    """Exercise 2.3: ``my_window(net, image, stride)`` classifies the patch around every ``stride``-th pixel."""
    net = checkpoints.load_shared("patchnet")
    image = Shapes("test", 1)[0][0][:, :24, :24]
    mine, problem = attempt(my_window, net, image, stride)
    if problem:
        return problem
    if not isinstance(mine, torch.Tensor):
        return verdict(False, f"return the scores as a tensor (classes, rows, columns), got {type(mine).__name__}")
    with torch.no_grad():
        return compare("scores", mine, sliding_window(net, image, stride), atol=1e-4)


# Chapter 3 -------------------------------------------------------------------

def check_pyramid_fields(answers: list) -> str:
    """Exercise 3.1: the shared CNN's receptive field at scales 1, 1/2 and 1/4, in pixels of the original image."""

    fields = receptive_field_per_level(3)
    if len(answers) != 3 or not all(isinstance(a, int) for a in answers):
        return verdict(False, "give three whole numbers of pixels, one per level")
    wrong = [f"scale 1/{2**k}" for k, (a, f) in enumerate(zip(answers, fields)) if a != f]
    return verdict(not wrong, "blur and halving come first, then the CNN's layers with every jump doubled per level"
                   if not wrong else f"look again at {', '.join(wrong)}: list the layers from the original image")


def check_coarsest_level(answer: str, scenes: int = 100) -> str:
    """Exercise 3.2: the object class whose IoU falls most when the 1/4 level is switched off (measured)."""

    if answer not in CLASS_NAMES[1:]:
        return verdict(False, f"answer with one of {CLASS_NAMES[1:]}")
    drops = iou_without_levels((True, True, False), scenes)
    worst = max(drops, key=drops.get)
    measured = ", ".join(f"{name} -{drop:.3f}" for name, drop in drops.items())
    return verdict(answer == worst, measured if answer == worst else "switch the level off in the widget and compare")


def check_reduce(reduce) -> str:
    """Exercise 3.3: ``reduce(images)`` is one level down the Gaussian pyramid (blur, then every second pixel)."""
    images = torch.rand(2, 3, 32, 24, generator=torch.Generator().manual_seed(3))
    mine, problem = attempt(reduce, images)
    if problem:
        return problem
    if not isinstance(mine, torch.Tensor):
        return verdict(False, f"reduce must return a tensor, got {type(mine).__name__}")
    return compare("reduce(images)", mine, gaussian_pyramid(images, 2)[1], atol=1e-5)


def check_autograd_field(field) -> str:
    """Exercise 3.4: ``field(model)`` measures a network's receptive field by autograd, as ``measured_field`` does."""
    model = checkpoints.load_shared("singlescale")
    mine, problem = attempt(field, model)
    if problem:
        return problem
    expected = measured_field(model)
    if not isinstance(mine, int):
        return verdict(False, f"return the field as a whole number of pixels, got {mine!r}")
    return verdict(mine == expected, f"{mine} pixels, as utils.receptive_field measures" if mine == expected else
                   f"{mine} pixels; back-propagate from the centre label only and count the rows and columns "
                   "that receive any gradient")


# Chapter 4 -------------------------------------------------------------------

def check_refinement_field(answer, passes: int = 3) -> str:
    """Exercise 4.1: how many pixels the labels can depend on after ``passes`` passes (measured by autograd)."""
    fields = measured_field_by_pass("recurrent", passes)
    if not isinstance(answer, int):
        return verdict(False, "give a whole number of pixels")
    first, added = fields[0], (fields[1] - fields[0] if passes > 1 else 0)
    return verdict(answer == fields[-1], f"{first} + {passes - 1} x {added}" if answer == fields[-1]
                   else "start from the first pass's window and add what each later pass adds")


def check_one_pass(one_pass) -> str:
    """Exercise 4.2: ``one_pass(net, small, labels, t)`` is the recurrence's step: new scores and new labels."""
    net = checkpoints.load_shared("recurrent")
    small = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    labels = torch.rand(2, NUM_CLASSES, 32, 32, generator=torch.Generator().manual_seed(5)).softmax(1)
    result, problem = attempt(one_pass, net, small, labels, 1)
    if problem:
        return problem
    if not (isinstance(result, tuple) and len(result) == 2 and all(isinstance(t, torch.Tensor) for t in result)):
        return verdict(False, "return two tensors: the pass's scores and its new labels")
    with torch.no_grad():
        scores = net.f(torch.cat([small, labels], 1), 1)
    first = compare("scores", result[0], scores, atol=1e-5)
    return first if first.startswith("not yet") else compare("labels", result[1], scores.softmax(1), atol=1e-5)


def check_recurrent_loss(loss_fn) -> str:
    """Exercise 4.3: ``loss_fn(scores, semantic)`` is the mean cross-entropy over every pass, as the zoo trains with."""
    g = torch.Generator().manual_seed(6)
    scores = [torch.randn(2, NUM_CLASSES, 8, 8, generator=g) for _ in range(3)]
    semantic = torch.randint(NUM_CLASSES, (2, 8, 8), generator=g)
    mine, problem = attempt(loss_fn, scores, semantic)
    if problem:
        return problem
    if not isinstance(mine, torch.Tensor) or mine.dim() != 0:
        return verdict(False, "return one number (a 0-dimensional tensor): the loss")
    expected = recurrent_loss(lambda images: scores, None, semantic, g)
    last = torch.nn.functional.cross_entropy(scores[-1], semantic)
    if torch.isclose(mine, last) and not torch.isclose(mine, expected):
        return verdict(False, "that is the last pass's loss only; average the loss over every pass")
    return compare("loss", mine, expected, atol=1e-5)


# Chapter 5 -------------------------------------------------------------------

def check_bilinear_kernel(triangle) -> str:
    """Exercise 5.2: the 8 values of the 1-D triangle whose outer product is the x4 bilinear kernel."""

    if not isinstance(triangle, torch.Tensor) or triangle.shape != (8,):
        return verdict(False, "give the 8 values of the triangle as a tensor, torch.tensor([...])")
    return compare("bilinear kernel", triangle[:, None] * triangle[None, :], bilinear_kernel(8))


def check_fcn8s_output_size(answer) -> str:
    """Exercise 5.3: the output side of FCN-8s's last layer on a 16x16 map."""
    size = conv_transpose_output_size(16, 16, 8, 4)
    if not isinstance(answer, int):
        return verdict(False, "give the output side as a whole number")
    return verdict(answer == size, "(i - 1) s - 2p + k" if answer == size else "apply (i - 1) s - 2p + k to i = 16")


def check_fcn4s(model_class) -> str:
    """Exercise 5.4: an FCN-4s that adds a ``pool2`` skip to FCN-8s and upsamples x4 at the end."""

    try:
        net = model_class(NUM_CLASSES).eval()
        with torch.no_grad():
            stages = net.stages(torch.rand(1, 3, 64, 64))
    except Exception as err:  # the reader's class may fail in any way: say how, do not crash the notebook
        return verdict(False, f"building it or running a 64x64 image failed: {type(err).__name__}: {err}")
    if not isinstance(stages, dict) or "fuse_pool2" not in stages:
        return verdict(False, "stages() should return a 'fuse_pool2' map: upsampled fuse_pool3 + score_pool2")
    if stages["fuse_pool2"].shape[-1] != 16:
        return verdict(False, f"fuse_pool2 should be 16x16 (stride 4) on a 64x64 image, got {tuple(stages['fuse_pool2'].shape)}")
    if stages["out"].shape != (1, NUM_CLASSES, 64, 64):
        return verdict(False, f"the output should be (1, {NUM_CLASSES}, 64, 64), got {tuple(stages['out'].shape)}")
    return verdict(True, "scores at stride 4 from pool2, fused and upsampled x4 to the input size")


# Chapter 6 -------------------------------------------------------------------

def check_doubling(k: int, s: int, p: int, output_padding: int = 0) -> str:
    """Exercise 6.1: a transposed convolution that maps 7x7 to exactly 14x14."""
    try:
        size = conv_transpose_output_size(7, k, s, p, output_padding)
    except ValueError as err:
        return verdict(False, f"PyTorch refuses that setting: {err}")
    doubles_others = all(conv_transpose_output_size(i, k, s, p, output_padding) == 2 * i for i in (3, 8, 16))
    if size != 14:
        return verdict(False, f"7 -> {size}, not 14")
    return verdict(True, "7 -> 14" + (", and it doubles every size" if doubles_others else
                                      ", but not other sizes: try one that doubles any input"))


def check_output_padding(answers: dict[int, int], k: int = 3, s: int = 2, p: int = 1) -> str:
    """Exercise 6.2: the output padding that makes the transposed layer restore each input size."""
    wrong = []
    for size, a in answers.items():
        coarse = conv_output_size(size, k, s, p)
        try:
            restored = conv_transpose_output_size(coarse, k, s, p, a)
        except ValueError as err:
            wrong.append(f"input {size}: {err}")
            continue
        if restored != size:
            wrong.append(f"input {size} -> {coarse} -> {restored}")
    return verdict(not wrong, "every size comes back" if not wrong else "; ".join(wrong))


def check_checkerboard(predictions: dict[tuple[int, int], bool]) -> str:
    """Exercise 6.3: predict, for each (kernel, stride), whether a transposed convolution checkerboards."""
    if not all(isinstance(guess, bool) for guess in predictions.values()):
        return verdict(False, "replace every ... with True (uneven overlap) or False (even)")
    wrong = [ks for ks, guess in predictions.items() if guess != (overlap_ratio(*ks, ndim=2) > 1)]
    return verdict(not wrong, "uneven overlap exactly when the stride does not divide the kernel" if not wrong
                   else f"look again at (kernel, stride) = {wrong}")


def check_transpose_size(my_size) -> str:
    """Exercise 6.4: ``my_size(i, k, s, p, a, d)`` is a transposed convolution's output length, as PyTorch computes it."""
    for i, k, s, p, a, d in ((4, 3, 2, 1, 1, 1), (5, 4, 2, 1, 0, 1), (3, 3, 3, 0, 2, 1), (6, 3, 1, 1, 0, 2),
                             (2, 5, 2, 3, 1, 1)):
        mine, problem = attempt(my_size, i, k, s, p, a, d)
        if problem:
            return problem
        layer = torch.nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=a, dilation=d)
        theirs = layer(torch.zeros(1, 1, i, i)).shape[-1]
        if mine != theirs:
            return verdict(False, f"i={i}, k={k}, s={s}, p={p}, a={a}, d={d}: yours {mine}, "
                                  f"nn.ConvTranspose2d {theirs}")
    return verdict(True, "(i - 1) s - 2p + d (k - 1) + a + 1, on every setting tried")


def check_stretch(my_stretch) -> str:
    """Exercise 6.5: ``my_stretch(x, s)`` puts ``s - 1`` zeros between neighbouring inputs of ``x`` (C, H, W)."""
    x = torch.arange(1.0, 13.0).reshape(1, 3, 4)
    for s in (1, 2, 3):
        mine, problem = attempt(my_stretch, x, s)
        if problem:
            return problem
        expected = x.new_zeros(1, (3 - 1) * s + 1, (4 - 1) * s + 1)
        expected[:, ::s, ::s] = x
        if not isinstance(mine, torch.Tensor):
            return verdict(False, f"return a tensor, got {type(mine).__name__}")
        result = compare(f"stretch with s={s}", mine, expected)
        if result.startswith("not yet"):
            return result
    return verdict(True, "no zeros after the last input: (H - 1) s + 1 rows")


# Chapter 7 -------------------------------------------------------------------

#: Exercise 7.1's case: mask IoUs (detections by falling score x objects), all of one class.
AP_EXERCISE_IOUS = np.array([[0.8, 0.1], [0.6, 0.0], [0.0, 0.55]])


def check_ap_by_hand(true_positives: list, ap, threshold: float = 0.5) -> str:
    """Exercise 7.1: which of three detections are true positives, and the AP they give."""
    flags = match_detections(AP_EXERCISE_IOUS, threshold) >= 0
    if len(true_positives) != len(flags) or not all(isinstance(t, bool) for t in true_positives):
        return verdict(False, "give True or False for each of the three detections")
    if list(flags) != list(true_positives):
        return verdict(False, "match in score order: each detection takes the best object not yet taken")
    expected = interpolated_ap(flags, AP_EXERCISE_IOUS.shape[1])
    if not isinstance(ap, (int, float)):
        return verdict(False, "the matches are right; now give the AP as a number")
    return verdict(abs(ap - expected) < 0.005, "matches and AP both right" if abs(ap - expected) < 0.005
                   else "the matches are right; average the interpolated precision over the 101 recall points")


def check_mask_nms(my_nms) -> str:
    """Exercise 7.4: ``my_nms(masks, scores, threshold)`` keeps the best mask of every overlapping group, best first."""
    g = torch.Generator().manual_seed(8)
    masks = torch.zeros(6, 16, 16, dtype=torch.bool)
    for k, (y, x) in enumerate(((2, 2), (3, 2), (2, 3), (9, 9), (10, 9), (2, 10))):
        masks[k, y:y + 5, x:x + 5] = True
    scores = torch.rand(6, generator=g)
    for threshold in (0.3, 0.7):
        mine, problem = attempt(my_nms, masks, scores, threshold)
        if problem:
            return problem
        expected = mask_nms(masks, scores, threshold)
        if not isinstance(mine, torch.Tensor) or mine.tolist() != expected.tolist():
            return verdict(False, f"at threshold {threshold}: yours {mine}, expected {expected.tolist()} (indices, "
                                  "best score first; drop a mask that overlaps a kept one by more than the threshold)")
    return verdict(True, "greedy, best score first, on mask IoU")


def check_region_crop(my_crop) -> str:
    """Exercise 7.5: ``my_crop(image, mask, box)`` is SDS's region crop: the box crop with the background zeroed."""
    image = torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(9))
    mask = torch.zeros(1, 32, 32, dtype=torch.bool)
    mask[0, 5:20, 8:14] = True
    mask[0, 12:20, 14:25] = True
    box = torch.tensor([[8.0, 5.0, 25.0, 20.0]])
    mine, problem = attempt(my_crop, image, mask, box)
    if problem:
        return problem
    if not isinstance(mine, torch.Tensor):
        return verdict(False, f"return the crop as a tensor, got {type(mine).__name__}")
    return compare("region crop", mine, crops(image, mask, box)[1], atol=1e-5)


# Chapter 8 -------------------------------------------------------------------

def check_attention_pool(function) -> str:
    """Exercise 8.1: ``function(features (B, C, h, w), score: 1x1 conv) -> (B, C)``, soft attention pooling."""
    torch.manual_seed(0)
    reference = SoftAttentionPool(16)
    features = torch.randn(3, 16, 5, 7)
    mine, failed = attempt(function, features, reference.score)
    if failed:
        return failed
    with torch.no_grad():
        expected = reference(features)
    if isinstance(mine, torch.Tensor) and mine.shape == expected.shape:
        if torch.allclose(mine, features.mean((2, 3)), atol=1e-4):
            return verdict(False, "that is average pooling: the weights must come from a softmax of the scores")
    return compare("the pooled vectors", mine.detach() if isinstance(mine, torch.Tensor) else torch.tensor([]),
                   expected, atol=1e-5)


def check_zoom_theta(function) -> str:
    """Exercise 8.2: ``function(box (4,) xyxy pixels, size) -> (2, 3)``, the affine matrix that samples the box."""
    boxes = torch.tensor([[0.0, 0, 64, 64], [8, 24, 40, 56], [32, 0, 48, 16]])
    for box in boxes:
        mine, failed = attempt(function, box, 64)
        if failed:
            return failed
        expected = box_theta(box[None], 64)[0]
        answer = compare(f"theta for box {box.tolist()}", torch.as_tensor(mine, dtype=torch.float32), expected, 1e-5)
        if not answer.startswith("correct"):
            return answer
    return verdict(True, "scale = box side / canvas side, translation = box centre in [-1, 1]: every box checked")


def check_reinforce(function) -> str:
    """Exercise 8.3: ``function(log_probs, rewards, baseline) -> loss`` whose gradient is REINFORCE's estimate."""
    torch.manual_seed(0)
    log_probs, rewards = torch.randn(8, requires_grad=True), torch.rand(8) + 1.0
    for baseline in (0.0, 1.5):
        mine, failed = attempt(function, log_probs, rewards, baseline)
        if failed:
            return failed
        if not isinstance(mine, torch.Tensor) or mine.numel() != 1 or not mine.requires_grad:
            return verdict(False, "return one number (a 0-d tensor) that still depends on log_probs")
        (grad,) = torch.autograd.grad(mine, log_probs)
        (expected,) = torch.autograd.grad(reinforce_loss(log_probs, rewards, baseline), log_probs)
        if not torch.allclose(grad, expected, atol=1e-6):
            return verdict(False, f"with baseline {baseline} your loss's gradient is off; it should push up the "
                                  "log-probability of each action by how much better than the baseline it did")
    return verdict(True, "the gradient is the mean of (reward - baseline) times the gradient of log pi")


# Chapter 9 -------------------------------------------------------------------

def check_dataset_miou(function) -> str:
    """Exercise 9.1: ``function(predictions, labels, num_classes) -> float``, the data set's mIoU.

    Three scenes whose per-scene mIoUs average to something else; a class that
    occurs nowhere; ``VOID`` pixels that must be left out.
    """
    predictions = torch.tensor([[[1, 1, 0, 0]], [[0, 2, 2, 0]], [[1, 0, 0, 0]]])
    labels = torch.tensor([[[1, 1, 1, 0]], [[0, 2, 0, VOID]], [[1, 0, 0, 0]]])
    expected = iou_from_confusion(confusion_matrix(predictions, labels, 4, ignore_index=VOID)).nanmean().item()
    mine, failed = attempt(function, predictions, labels, 4)
    if failed:
        return failed
    try:
        mine = float(mine)
    except (TypeError, ValueError):
        return verdict(False, f"return one number, got {type(mine).__name__}")
    per_scene = np.mean([iou_from_confusion(confusion_matrix(p, t, 4, ignore_index=VOID)).nanmean().item()
                         for p, t in zip(predictions, labels)])
    hints = {round(per_scene, 6): "that is the mean of per-scene mIoUs; sum the confusion matrices first",
             round(iou_from_confusion(confusion_matrix(predictions, labels.where(labels != VOID, 0), 4))
                   .nanmean().item(), 6): "the void pixel was scored; leave it out",
             round(iou_from_confusion(confusion_matrix(predictions, labels, 4, ignore_index=VOID))
                   .nan_to_num(0.0).mean().item(), 6): "class 3 occurs nowhere: it has no IoU, leave it out of the mean"}
    if abs(mine - expected) > 1e-6:
        return verdict(False, hints.get(round(mine, 6), f"got {mine:.4f}; count each class's intersection and "
                                                         "union over all scenes, then average over classes"))
    return verdict(True, f"{expected:.4f}: one confusion matrix for the data set, void left out, absent classes skipped")


def check_dice_loss(function) -> str:
    """Exercise 9.2: ``function(scores, labels) -> loss``, soft Dice averaged over classes, ``VOID`` left out."""
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(2, NUM_CLASSES, 8, 8, generator=generator)
    labels = torch.randint(0, NUM_CLASSES, (2, 8, 8), generator=generator)
    labels[0, :2] = VOID
    mine, failed = attempt(function, scores, labels)
    if failed:
        return failed
    if not isinstance(mine, torch.Tensor) or mine.numel() != 1:
        return verdict(False, "return one number (a 0-d tensor)")
    expected = soft_dice_loss(scores, labels)
    if abs(mine.item() - expected.item()) > 1e-5:
        return verdict(False, f"got {mine.item():.4f}, expected {expected.item():.4f}: use the softmax "
                              "probabilities, sums over the labelled pixels only, the smoothing term, then "
                              "1 minus the mean over classes")
    return verdict(True, "soft Dice: 2 |P.G| / (|P| + |G|) per class over the batch, averaged, from 1")



def _crop_window(mine, image: torch.Tensor, mask: torch.Tensor, size: int) -> tuple[tuple[int, int] | None, str]:
    """``((top, left), "")`` if ``mine`` is one window of ``image`` and the same of ``mask``; else ``(None, why)``.

    The image's channels 0 and 1 hold each pixel's row and column, so a crop says where it came from.
    """
    if not (isinstance(mine, tuple) and len(mine) == 2 and all(isinstance(t, torch.Tensor) for t in mine)
            and mine[0].shape == (3, size, size) and mine[1].shape == (size, size)):
        return None, f"return (image crop (3, {size}, {size}), mask crop ({size}, {size}))"
    crop, labels = mine
    if labels.dtype != mask.dtype:
        return None, f"the mask came back as {labels.dtype}: cut it, never resample or convert it"
    top, left = int(crop[0, 0, 0]), int(crop[1, 0, 0])
    inside = 0 <= top <= image.shape[-2] - size and 0 <= left <= image.shape[-1] - size
    if not (inside and torch.equal(crop, image[:, top:top + size, left:left + size])):
        return None, "the image crop is not one window of the image: slice its rows and columns"
    if not torch.equal(labels, mask[top:top + size, left:left + size]):
        return None, "the mask's window is not the image's: draw the offsets once, cut both with them"
    return (top, left), ""


def check_joint_crop(function, size: int = 6, draws: int = 200) -> str:
    """Exercise 9.3: ``function(image, mask, size, generator) -> (image crop, mask crop)``, one window for both.

    A 10 x 13 image whose channels hold each pixel's row and column and a mask
    with a distinct value per pixel, cropped with ``draws`` seeded generators:
    every crop must be one window of both, the windows must reach the last
    offsets, and they must be ``utils.augment.joint_random_crop``'s, draw for draw.
    """
    rows, cols = torch.meshgrid(torch.arange(10.0), torch.arange(13.0), indexing="ij")
    image, mask = torch.stack([rows, cols, rows * cols]), (rows * 13 + cols).long()
    offsets, as_specified = set(), True
    for seed in range(draws):
        mine, failed = attempt(function, image, mask, size, torch.Generator().manual_seed(seed))
        if failed:
            return failed
        window, why = _crop_window(mine, image, mask, size)
        if window is None:
            return verdict(False, why)
        offsets.add(window)
        expected = joint_random_crop(image, mask, size, torch.Generator().manual_seed(seed))[0]
        as_specified = as_specified and torch.equal(mine[0], expected)
    if len(offsets) == 1:
        return verdict(False, "every call cut the same window: draw its offsets from the generator")
    if max(t for t, _ in offsets) < image.shape[-2] - size or max(c for _, c in offsets) < image.shape[-1] - size:
        return verdict(False, "the window never touches the bottom or right edge: randint leaves out its upper "
                              "end, so the offsets run to H - size included")
    if not as_specified:
        return verdict(False, "a fair joint crop, drawn another way: draw top, then left, each with "
                              "torch.randint(0, side - size + 1, (1,), generator=generator)")
    return verdict(True, "one window drawn from every offset that fits, cut from image and mask alike")
