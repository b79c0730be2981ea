"""The data contract of ``utils.data.Shapes`` (COURSE.md, 'Contracts the chapters rely on')."""

import hashlib

import numpy as np
import pytest
import torch

from utils import data
from utils.data import CLASS_NAMES, NUM_CLASSES, PALETTE, Cluttered, Shapes


@pytest.fixture(scope="module")
def items():
    data = Shapes("train", 200)
    return [data[i] for i in range(len(data))]


def test_item_types_and_shapes(items):
    for image, target in items:
        assert image.dtype == torch.float32 and image.shape == (3, 64, 64)
        assert 0.0 <= image.min() and image.max() <= 1.0
        n = len(target["labels"])
        assert 1 <= n <= 4
        assert target["semantic"].dtype == torch.int64 and target["semantic"].shape == (64, 64)
        assert target["masks"].dtype == torch.bool and target["masks"].shape == (n, 64, 64)
        assert target["labels"].dtype == torch.int64 and target["labels"].shape == (n,)
        assert target["boxes"].dtype == torch.float32 and target["boxes"].shape == (n, 4)
        assert target["labels"].min() >= 1 and target["labels"].max() < NUM_CLASSES


def test_masks_are_disjoint_and_union_is_the_foreground(items):
    for _, target in items:
        masks, semantic = target["masks"], target["semantic"]
        assert masks.sum(0).max() <= 1, "visible masks must not overlap"
        assert torch.equal(masks.any(0), semantic > 0)
        for mask, label in zip(masks, target["labels"]):
            assert mask.any()
            assert (semantic[mask] == label).all()


def test_boxes_enclose_each_mask_tightly(items):
    for _, target in items:
        for mask, (x0, y0, x1, y1) in zip(target["masks"], target["boxes"].tolist()):
            rows = torch.nonzero(mask.any(1)).flatten()
            cols = torch.nonzero(mask.any(0)).flatten()
            assert (x0, y0, x1, y1) == (cols[0], rows[0], cols[-1] + 1, rows[-1] + 1)


def test_every_class_occurs_and_objects_overlap(items):
    labels = torch.cat([t["labels"] for _, t in items])
    assert set(labels.tolist()) == set(range(1, NUM_CLASSES))
    occluded = 0
    for _, target in items:
        # A mask that is not its shape's full area is partly hidden by a later object or the border.
        occluded += int(len(target["labels"]) > 1)
    assert occluded > 50


def test_object_sizes_span_a_few_pixels_to_most_of_the_image(items):
    areas = torch.cat([t["masks"].flatten(1).sum(1) for _, t in items]).float()
    assert areas.min() <= 30
    assert areas.max() >= 0.25 * 64 * 64


def test_same_arguments_same_bytes():
    a, b = Shapes("val", 5, seed=3), Shapes("val", 5, seed=3)
    for i in range(5):
        (ia, ta), (ib, tb) = a[i], b[i]
        assert ia.numpy().tobytes() == ib.numpy().tobytes()
        assert all(torch.equal(ta[k], tb[k]) for k in ta)


def _digests(split, seed=0, n=300):
    return {hashlib.sha256(Shapes(split, n, seed=seed)[i][0].numpy().tobytes()).hexdigest() for i in range(n)}


def test_splits_and_seeds_never_share_a_scene():
    train, val, test = _digests("train"), _digests("val"), _digests("test")
    assert len(train) == len(val) == len(test) == 300
    assert not train & val and not train & test and not val & test
    assert not test & _digests("test", seed=1)


def test_batch_matches_items():
    data = Shapes("test", 8)
    images, semantic = data.batch(range(8))
    assert images.shape == (8, 3, 64, 64) and semantic.shape == (8, 64, 64)
    for i in range(8):
        image, target = data[i]
        assert torch.equal(images[i], image) and torch.equal(semantic[i], target["semantic"])


def test_other_image_sizes():
    image, target = Shapes("test", 1, image_size=128)[0]
    assert image.shape == (3, 128, 128) and target["semantic"].shape == (128, 128)


def test_palette_and_names_cover_every_class():
    assert len(CLASS_NAMES) == NUM_CLASSES == len(PALETTE) and CLASS_NAMES[0] == "background"
    assert PALETTE.dtype == np.uint8 and len({tuple(c) for c in PALETTE}) == NUM_CLASSES


@pytest.mark.parametrize(
    "kwargs, word",
    [({"split": "dev", "length": 3}, "split"), ({"split": "test", "length": 0}, "length"),
     ({"split": "test", "length": 3, "image_size": 8}, "image_size")],
)
def test_bad_arguments_name_the_parameter(kwargs, word):
    with pytest.raises(ValueError, match=word):
        Shapes(**kwargs)


def test_index_out_of_range():
    with pytest.raises(IndexError):
        Shapes("test", 3)[3]


def test_crowded_scenes_put_objects_of_one_class_in_contact():
    """Chapter 7's crowded split: same contract, deterministic, and most objects touch one of their class."""
    from scipy.ndimage import binary_dilation

    data = Shapes("test", 60, image_size=128, crowded=True)
    image, target = data[3]
    again = Shapes("test", 60, image_size=128, crowded=True)[3]
    assert torch.equal(image, again[0]) and torch.equal(target["masks"], again[1]["masks"])
    assert not torch.equal(image, Shapes("test", 60, image_size=128)[3][0]), "a stream of its own"
    touching = objects = 0
    for i in range(len(data)):
        target = data[i][1]
        assert (target["masks"].sum(0) <= 1).all() and len(target["labels"]) >= 2
        for k, mask in enumerate(target["masks"]):
            objects += 1
            grown = torch.from_numpy(binary_dilation(mask.numpy(), iterations=2))
            touching += any((grown & other).any() for j, other in enumerate(target["masks"])
                            if j != k and target["labels"][j] == target["labels"][k])
    assert touching / objects > 0.6, (touching, objects)


def test_cluttered_scenes_are_deterministic_and_hold_one_whole_target():
    scenes = Cluttered("test", 20)
    image, target = scenes[3]
    again, same = Cluttered("test", 20)[3]
    assert torch.equal(image, again) and torch.equal(target["mask"], same["mask"])
    assert not torch.equal(image, Cluttered("train", 20)[3][0]), "splits never share a scene"
    assert image.shape == (3, 64, 64) and image.dtype == torch.float32 and 0 <= image.min() and image.max() <= 1
    for index in range(20):
        _, target = scenes[index]
        rows, cols = target["mask"].any(1).nonzero(), target["mask"].any(0).nonzero()
        x0, y0, x1, y1 = target["box"].tolist()
        assert (x0, y0, x1, y1) == (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
        extent = max(x1 - x0, y1 - y0) / 64
        assert 0.1 <= extent <= 0.4 * data._REACH + 2 / 64, "the target is 15% to 40% of the canvas across"
        assert 0 < x0 and 0 < y0 and x1 < 64 and y1 < 64, "the whole target lies inside the canvas"
        assert 1 <= int(target["label"]) < NUM_CLASSES
    images, labels = scenes.batch(range(4))
    assert images.shape == (4, 3, 64, 64) and labels.tolist() == [int(scenes[i][1]["label"]) for i in range(4)]


def test_clutter_fragments_are_slivers_never_a_whole_shape(monkeypatch):
    grid = np.arange(64, dtype=np.float32)

    def areas():
        return [int(data._fragment(np.random.default_rng(i), 64, grid[:, None], grid[None, :], data.TARGET_SIDE)[1].sum())
                for i in range(40)]

    slivers = areas()
    monkeypatch.setattr(data, "_FRAGMENT_WIDTH", 10.0)  # a band wider than any shape: the whole shape
    wholes = areas()
    kept = [s / w for s, w in zip(slivers, wholes) if w > 0]
    assert len(kept) > 30 and max(kept) < 0.6, "a fragment keeps under 60% of its shape, never all of it"


@pytest.mark.parametrize("kwargs, parameter", [({"image_size": 8}, "image_size"), ({"clutter": -1}, "clutter"),
                                               ({"side": (0.0, 0.4)}, "side"), ({"side": (0.5, 0.3)}, "side"),
                                               ({"length": 0}, "length")])
def test_cluttered_refuses_impossible_settings(kwargs, parameter):
    arguments = {"split": "test", "length": 4, **kwargs}
    with pytest.raises(ValueError, match=f"^{parameter}"):
        Cluttered(**arguments)
