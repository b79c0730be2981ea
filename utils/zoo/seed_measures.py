"""What a chapter's verdicts read from a seed beyond its model's scores: measured again on every seed's weights.

Most verdicts compare two models' whole-image scores, which every seed record
keeps. Some ask about something else: whether chapter 3's bottom-up
clean-ups raise the pyramid's pixel accuracy and mIoU; whether chapter 4's
second pass leans on its own scene's labels, whether its passes forget a
wrong start, and how two passes compare with chapter 3's pyramid on chapter
4's scenes; whether chapter 5's skips gain more near edges and on small
objects. ``MEASURES[name](model)`` measures those quantities on one model
(every seed's weights in turn), on the scenes its chapter uses, the way the
chapter does; ``utils.zoo.seeds`` adds them to each record's metrics,
so a chapter reads them for seeds 1 and 2 as it reads an mIoU.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .. import bottom_up
from ..bootstrap import miou_of, pixel_accuracy_of, scene_confusions
from ..data import NUM_CLASSES, VOID, Shapes, damage, one_hot
from ..metrics import boundary_band, recall_by_size
from ..models import FCN_IMAGE_SIZE
from ..models.recurrent import second_pass_on_other_labels
from .checkpoints import load_shared
from .inference import in_chunks, predict

#: Chapter 5's bins of object size (the square root of an object's area, pixels): the smallest and largest are compared.
SIZE_EDGES = (0, 16, 32, 48, 64, 128)
#: Chapter 5's band around true edges for "the skips earn their gain at the edges" (pixels).
EDGE_BAND = 2
#: The test scenes of chapters 3, 4 and 5 (split "test", seed 0): how many each scores on; chapter 4's starts use the first 100.
SCENES_3, SCENES_4, SCENES_5, START_SCENES = 200, 300, 300, 100


def _confusions(labels: torch.Tensor, semantic: torch.Tensor) -> torch.Tensor:
    """Per-scene confusion matrices (N, C, C) of label maps ``labels`` against ``semantic`` (both (N, H, W))."""
    return scene_confusions(labels, semantic, NUM_CLASSES)


@torch.no_grad()
def cleanups(model: nn.Module) -> dict:
    """Chapter 3 (pyramid): pixel accuracy and mIoU on its scenes, as labelled and after each clean-up; mIoU on chapter 4's.

    Keys ``pixel_accuracy_network``, ``miou_network`` (the arg-max), then the same
    for ``superpixels`` and ``tree`` (``bottom_up.CLEANUPS``), and ``miou_chapter4_scenes``.
    """
    images, semantic = Shapes("test", SCENES_3).batch(range(SCENES_3))
    probabilities = in_chunks(model, images).softmax(1)
    labels = {"network": probabilities.argmax(1)}
    for name, cleanup in bottom_up.CLEANUPS.items():
        labels[name] = torch.stack([cleanup(image, probs, bottom_up.SUPERPIXEL_SCALE)
                                    for image, probs in zip(images, probabilities)])
    measured = {}
    for name, label_maps in labels.items():
        confusions = _confusions(label_maps, semantic)
        measured |= {f"pixel_accuracy_{name}": pixel_accuracy_of(confusions), f"miou_{name}": miou_of(confusions)}
    images_4, semantic_4 = Shapes("test", SCENES_4).batch(range(SCENES_4))
    return measured | {"miou_chapter4_scenes": miou_of(_confusions(predict(model, images_4), semantic_4))}


@torch.no_grad()
def relabelled(model: nn.Module) -> dict:
    """Chapter 4 (recurrent): mIoU of pass 2 on another scene's pass-1 labels; after 3 passes from each start.

    The starts (on the first ``START_SCENES`` scenes): ``damaged`` ground
    truth (``data.damage``, scene i with seed i), the shipped ``single``-scale
    model's output, and ``none`` (no labels).
    """
    images, semantic = Shapes("test", SCENES_4).batch(range(SCENES_4))
    scores = in_chunks(lambda x: second_pass_on_other_labels(model, x), images)
    measured = {"miou_pass2_other_labels": miou_of(_confusions(scores.argmax(1), semantic))}
    images, semantic = images[:START_SCENES], semantic[:START_SCENES]
    starts = {"damaged": one_hot(torch.stack([damage(s, seed=i) for i, s in enumerate(semantic)])),
              "single": load_shared("singlescale")(images).softmax(1), "none": None}
    for name, start in starts.items():
        measured[f"miou_start_{name}"] = miou_of(_confusions(model(images, 3, start)[-1].argmax(1), semantic))
    return measured


@torch.no_grad()
def edges_and_sizes(model: nn.Module) -> dict:
    """Chapter 5 (FCN): mIoU within ``EDGE_BAND`` pixels of a true edge, and mean object recall per size bin."""
    test = Shapes("test", SCENES_5, image_size=FCN_IMAGE_SIZE)
    images, semantic = test.batch(range(SCENES_5))
    labels = predict(model, images)
    banded = semantic.where(boundary_band(semantic, EDGE_BAND), VOID)  # pixels away from an edge count for nothing
    targets = [test[i][1] for i in range(SCENES_5)]
    return {"miou_edge_band": miou_of(_confusions(labels, banded)),
            "recall_by_size": [round(r, 6) for r in recall_by_size(labels, targets, SIZE_EDGES)]}


#: The measure each compared model's seed records carry (by zoo name).
MEASURES: dict[str, Callable[[nn.Module], dict]] = {
    "multiscale": cleanups, "recurrent": relabelled, "fcn32s": edges_and_sizes, "fcn16s": edges_and_sizes,
    "fcn8s": edges_and_sizes,
}


def measure(name: str, model: nn.Module) -> dict:
    """``MEASURES[name](model)`` on the CPU, or nothing for a model no chapter measures beyond its scores."""
    return MEASURES[name](model.cpu().eval()) if name in MEASURES else {}
