"""Segmentation without learning: scikit-image's ``coins`` split into coin / background and into single coins.

Chapter 1 (``lectures/01_segmentation_tasks``) uses it to show the three
outputs on a real photograph, and where hand-tuned rules stop working. The
pipeline follows scikit-image's gallery: a Sobel elevation map flooded from
dark and bright markers (Beucher & Meyer's watershed), then a distance
transform whose peaks seed one region per coin.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage import feature, filters, segmentation


def remove_small_regions(mask: np.ndarray, min_area: int) -> np.ndarray:
    """``mask`` (H,W) bool without its connected components smaller than ``min_area`` pixels."""
    labels, _ = ndi.label(mask)
    areas = np.bincount(labels.ravel())
    keep = areas >= min_area
    keep[0] = False
    return keep[labels]


def coin_mask(image: np.ndarray, dark: int = 30, bright: int = 150, min_area: int = 50) -> np.ndarray:
    """Semantic segmentation of a grey image (H,W) uint8: True on coins.

    Pixels darker than ``dark`` seed the background, brighter than ``bright``
    seed the coins; a watershed of the Sobel gradient decides everything in
    between, holes are filled and specks smaller than ``min_area`` dropped.
    """
    if not 0 <= dark < bright <= 255:
        raise ValueError(f"thresholds must satisfy 0 <= dark < bright <= 255, got dark={dark}, bright={bright}")
    markers = np.zeros(image.shape, dtype=np.int32)
    markers[image < dark] = 1
    markers[image > bright] = 2
    regions = segmentation.watershed(filters.sobel(image), markers)
    return remove_small_regions(ndi.binary_fill_holes(regions == 2), min_area)


def split_instances(mask: np.ndarray, min_distance: int = 12) -> np.ndarray:
    """Instance labels (H,W) int: 0 background, 1..N one per object, from a foreground ``mask``.

    Each peak of the distance to the background (at least ``min_distance``
    apart) seeds one object; a watershed of the negated distance splits
    touching objects along their neck.
    """
    distance = ndi.distance_transform_edt(mask)
    components, _ = ndi.label(mask)
    peaks = feature.peak_local_max(distance, min_distance=min_distance, labels=components, exclude_border=False)
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return segmentation.watershed(-distance, markers, mask=mask)
