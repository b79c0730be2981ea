"""Augmenting an image and its labels together, and what resizing a label map the wrong way invents (chapter 9).

torchvision's ``transforms.v2`` transforms an image, its ``Mask`` and its
``BoundingBoxes`` with one draw of the random parameters, and resamples each
the way its type needs: the image bilinearly, the mask by nearest neighbour
(a label has no "between"), the boxes as coordinates. ``joint_random_crop``
is the simplest joint transform written out by hand (chapter 9's exercise):
one random window, drawn once, cut from both. ``joint_augmentation``
is chapter 9's recipe: flips, a rotation, and a zoom into a random square
(scale jitter: objects appear up to twice as large). ``invented_labels``
counts what bilinear resizing does to a class-index map: between background
(0) and a ring (5) it writes 1 to 4, classes no neighbouring pixel has.
Taught in ``lectures/09_your_own_data``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchvision import tv_tensors
from torchvision.transforms import v2

from .data import VOID

#: Chapter 9's zoom: a random square crop holding this share of the scene's area, resized back to full size.
ZOOM_AREA = (0.25, 1.0)
#: Chapter 9's rotation range, in degrees either way; the corners a rotation uncovers are ``VOID``.
ROTATION = 30.0


def joint_augmentation(image_size: int, boxes: bool = False) -> v2.Compose:
    """Flips, a rotation (uncovered corners: ``VOID`` in the mask, black in the image) and a zoom, applied jointly.

    Call it on ``(tv_tensors.Image, tv_tensors.Mask)``; with ``boxes``, on
    ``(Image, Mask, BoundingBoxes)``, whose boxes are then clipped to the
    crop and dropped when nothing of them is left. Every output is
    ``image_size`` square.
    """
    if image_size < 1:
        raise ValueError(f"image_size must be a positive number of pixels, got {image_size}")
    return v2.Compose([
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
        v2.RandomRotation(ROTATION, fill={tv_tensors.Image: 0.0, tv_tensors.Mask: VOID, "others": 0}),
        v2.RandomResizedCrop(image_size, scale=ZOOM_AREA, ratio=(1.0, 1.0), antialias=True),
        *([v2.ClampBoundingBoxes(), v2.SanitizeBoundingBoxes(labels_getter=None)] if boxes else []),
    ])


def joint_random_crop(image: torch.Tensor, mask: torch.Tensor, size: int,
                      generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One ``size`` x ``size`` window at a random place, cut from ``image`` (C, H, W) and ``mask`` (H, W) alike.

    The window's top row, then its left column, are drawn uniformly from
    every offset that keeps it inside (0 to H - size and 0 to W - size, both
    ends included) with ``generator``; what ``v2.RandomCrop(size)`` does to
    an ``(Image, Mask)`` pair. Returns ``(image (C, size, size), mask (size, size))``.
    """
    height, width = mask.shape[-2:]
    if image.shape[-2:] != mask.shape[-2:]:
        raise ValueError(f"mask: must have the image's size {tuple(image.shape[-2:])}, got {tuple(mask.shape[-2:])}")
    if not 1 <= size <= min(height, width):
        raise ValueError(f"size must be between 1 and the smaller side {min(height, width)}, got {size}")
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    return image[..., top:top + size, left:left + size], mask[..., top:top + size, left:left + size]


def augment_batch(images: torch.Tensor, semantic: torch.Tensor, transform: v2.Transform,
                  generator_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each scene of ``images`` (B, 3, H, W) and ``semantic`` (B, H, W) through ``transform``, jointly.

    The random parameters come from a generator seeded with ``generator_seed``
    (the global one is left as it was), so a batch is a pure function of it.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(generator_seed)
        pairs = [transform(tv_tensors.Image(image), tv_tensors.Mask(labels)) for image, labels in zip(images, semantic)]
    return torch.stack([image.as_subclass(torch.Tensor) for image, _ in pairs]), torch.stack(
        [labels.as_subclass(torch.Tensor) for _, labels in pairs])


def resize_labels_bilinear(semantic: torch.Tensor, size: int) -> torch.Tensor:
    """The mistake: class indices (B, H, W) resized as if they were intensities, then rounded to the nearest class."""
    scaled = F.interpolate(semantic[:, None].float(), size=(size, size), mode="bilinear", align_corners=False)
    return scaled[:, 0].round().long()


def invented_labels(semantic: torch.Tensor, size: int, num_classes: int) -> torch.Tensor:
    """(B, size, size) bool: pixels whose bilinearly resized label is a class absent from their source neighbourhood.

    A pixel's neighbourhood is the 3x3 source pixels around where it comes
    from (bilinear reads at most 2x2 of them): a class found nowhere there
    was invented by averaging two others' indices.
    """
    if semantic.dim() != 3 or semantic.min() < 0 or semantic.max() >= num_classes:
        raise ValueError(f"semantic must be (B, H, W) class indices in 0..{num_classes - 1}")
    present = F.one_hot(semantic, num_classes).permute(0, 3, 1, 2).float()
    present = F.max_pool2d(present, 3, stride=1, padding=1)
    present = F.interpolate(present, size=(size, size), mode="nearest")
    resized = resize_labels_bilinear(semantic, size).clamp(0, num_classes - 1)
    return present.gather(1, resized[:, None])[:, 0] == 0
