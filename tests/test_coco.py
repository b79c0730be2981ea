"""COCO's format: RLE masks written and read back through torchvision exactly; polygons lose holes."""

import numpy as np
import torch

from utils.coco import polygon_round_trip, read_coco, rle, write_coco
from utils.data import CLASS_NAMES, Shapes


def test_scenes_round_trip_through_coco_detection(tmp_path):
    data = Shapes("test", 5)
    write_coco(data, tmp_path, range(5))
    dataset = read_coco(tmp_path)
    assert len(dataset) == 5
    for index, (image, target) in enumerate(dataset):
        truth = data[index][1]
        assert torch.equal(target["masks"].bool(), truth["masks"])
        assert torch.equal(target["labels"], truth["labels"])
        assert torch.equal(target["boxes"].as_subclass(torch.Tensor), truth["boxes"])
        assert image.size == (64, 64)


def test_rle_is_json_text_and_keeps_a_hole():
    yy, xx = np.mgrid[:32, :32]
    ring = ((yy - 16) ** 2 + (xx - 16) ** 2 <= 100) & ((yy - 16) ** 2 + (xx - 16) ** 2 >= 25)
    encoded = rle(ring)
    assert isinstance(encoded["counts"], str) and encoded["size"] == [32, 32]
    back = polygon_round_trip(ring)
    assert (back & ~ring).sum() > 0, "a polygon fills the ring's hole"
    disk = (yy - 16) ** 2 + (xx - 16) ** 2 <= 100
    assert np.array_equal(polygon_round_trip(disk), disk)


def test_only_rings_lose_pixels_as_polygons():
    data, ious = Shapes("test", 30), {name: [] for name in CLASS_NAMES[1:]}
    for index in range(30):
        _, target = data[index]
        for mask, label in zip(target["masks"].numpy(), target["labels"].tolist()):
            back = polygon_round_trip(mask)
            ious[CLASS_NAMES[label]].append((back & mask).sum() / (back | mask).sum())
    assert np.mean(ious.pop("ring")) < 0.9  # a ring whose hole another object covers keeps all its pixels
    assert min(min(values) for values in ious.values()) > 0.9
