"""COCO's instance format: our scenes written as ``instances.json`` with RLE masks, read back through torchvision.

One JSON file lists ``images``, ``categories`` and ``annotations``; an
annotation is one object: its image, its category, its box ``[x, y, width,
height]`` and its mask, either a polygon (a list of x, y vertices: no holes)
or run-length encoded (RLE: ``pycocotools.mask.encode`` of a column-major
binary mask, any shape, holes included). ``write_coco`` writes RLE, so a
ring keeps its hole; ``read_coco`` is ``torchvision.datasets.CocoDetection``
wrapped for the v2 transforms (``wrap_dataset_for_transforms_v2``), whose
targets are ``boxes`` (``tv_tensors.BoundingBoxes``, XYXY), ``labels`` and
``masks`` (``tv_tensors.Mask``). Taught in ``lectures/09_your_own_data``.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import torch
from pycocotools import mask as coco_mask
from skimage.measure import find_contours
from torchvision.datasets import CocoDetection, wrap_dataset_for_transforms_v2
from PIL import Image

from .data import CLASS_NAMES, Shapes


def rle(mask: np.ndarray) -> dict:
    """COCO's compressed RLE of a (H, W) bool mask, JSON-ready (``counts`` as text)."""
    encoded = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def annotations_of(data: Shapes, indices: range) -> dict:
    """The ``instances.json`` content for scenes ``indices`` of ``data``: categories are our classes 1..5."""
    images, annotations = [], []
    for image_id, index in enumerate(indices, start=1):
        _, target = data[index]
        images.append({"id": image_id, "file_name": f"scene_{index:05d}.png",
                       "height": data.image_size, "width": data.image_size})
        for mask, label, box in zip(target["masks"].numpy(), target["labels"].tolist(), target["boxes"].tolist()):
            x0, y0, x1, y1 = box
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": label,
                                "segmentation": rle(mask), "area": int(mask.sum()),
                                "bbox": [x0, y0, x1 - x0, y1 - y0], "iscrowd": 0})
    categories = [{"id": k, "name": name} for k, name in enumerate(CLASS_NAMES) if k > 0]
    return {"images": images, "annotations": annotations, "categories": categories}


def write_coco(data: Shapes, root: Path, indices: range) -> Path:
    """Write scenes ``indices`` of ``data`` as ``root/images/*.png`` (lossless) and ``root/instances.json``; returns it."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    content = annotations_of(data, indices)
    for entry, index in zip(content["images"], indices):
        image, _ = data[index]
        Image.fromarray((image.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()).save(root / "images" / entry["file_name"])
    path = root / "instances.json"
    path.write_text(json.dumps(content))
    return path


def read_coco(root: Path) -> CocoDetection:
    """``root``'s COCO data set as torchvision reads it: items (PIL image, {boxes, labels, masks, image_id})."""
    root = Path(root)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        dataset = CocoDetection(str(root / "images"), str(root / "instances.json"))
    return wrap_dataset_for_transforms_v2(dataset, target_keys=("image_id", "boxes", "labels", "masks"))


def polygon_round_trip(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool: ``mask`` written as COCO polygons (its outlines, traced at half a pixel) and rasterised back.

    COCO fills every polygon of an object and takes their union, so an
    outline around a hole fills the hole: a ring comes back as a disk.
    """
    padded = np.pad(mask.astype(np.float32), 1)
    polygons = [(contour[:, ::-1] - 1 + 0.5).ravel().tolist() for contour in find_contours(padded, 0.5)]
    polygons = [p for p in polygons if len(p) >= 6]  # a polygon needs three vertices
    if not polygons:
        return np.zeros_like(mask, dtype=bool)
    height, width = mask.shape
    return coco_mask.decode(coco_mask.merge(coco_mask.frPyObjects(polygons, height, width))).astype(bool)
