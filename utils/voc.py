"""PASCAL VOC's layout on disk: our scenes written into it, and any folder in it read back (chapter 9).

A VOC-layout folder holds ``JPEGImages/NAME.jpg``, ``SegmentationClass/NAME.png``
and ``ImageSets/Segmentation/SPLIT.txt`` (one NAME per line). A mask is a
*palette* PNG: each pixel stores a class index (0 background, 1, 2, ...; 255
void, the unlabelled band along every outline), and the file carries a colour
table that only makes the indices visible. Read with PIL, a palette image
gives the indices; converted to RGB it gives colours, which are not classes:
the most common mistake with these files (chapter 9 reproduces the error it
causes). ``VOCFolder`` reads a folder and refuses what it cannot use with
one line naming the file. ``torchvision.datasets.VOCSegmentation`` reads the
same layout under ``VOCdevkit/VOC2012``. Taught in ``lectures/09_your_own_data``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

from .data import VOID, Shapes


class DataFolderError(ValueError):
    """A data folder the course cannot read; the message says which file and what to do."""


def voc_palette(entries: int = 256) -> np.ndarray:
    """(entries, 3) uint8: PASCAL VOC's colour map (index k's bits spread over the high bits of R, G and B)."""
    palette = np.zeros((entries, 3), dtype=np.uint8)
    for index in range(entries):
        code = index
        for shift in range(7, -1, -1):
            for channel in range(3):
                palette[index, channel] |= ((code >> channel) & 1) << shift
            code >>= 3
    return palette


VOC_PALETTE = voc_palette()


def write_voc(data: Shapes, root: Path, splits: dict[str, range]) -> Path:
    """Write scenes of ``data`` into a VOC-layout folder ``root``: ``splits`` maps a split name to scene indices.

    Images as JPEG (quality 95: lossy, as VOC's are), masks as palette PNGs of
    ``data.semantic`` (with its void band if the distribution has one).
    Returns ``root``.
    """
    root = Path(root)
    for folder in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for split, indices in splits.items():
        names = [f"scene_{split}_{i:05d}" for i in indices]
        for name, index in zip(names, indices):
            image, instance, classes = data.scene(index)
            pixels = (image.transpose(1, 2, 0) * 255).round().astype(np.uint8)
            Image.fromarray(pixels).save(root / "JPEGImages" / f"{name}.jpg", quality=95)
            mask = Image.fromarray(data.semantic(instance, classes).astype(np.uint8), mode="P")
            mask.putpalette(VOC_PALETTE.reshape(-1).tolist())
            mask.save(root / "SegmentationClass" / f"{name}.png")
        (root / "ImageSets" / "Segmentation" / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))
    return root


def read_mask(path: Path) -> np.ndarray:
    """(H, W) uint8 class indices of a VOC mask: a palette or greyscale PNG as stored; an RGB one through the palette.

    Raises ``DataFolderError`` for an RGB mask with a colour that is not in
    VOC's palette (the colour and the file named).
    """
    with Image.open(path) as mask:
        if mask.mode in ("P", "L", "1"):
            return np.array(mask).astype(np.uint8)
        rgb = np.array(mask.convert("RGB"))
    codes = (rgb.astype(np.int64) * [65536, 256, 1]).sum(-1)
    table = (VOC_PALETTE.astype(np.int64) * [65536, 256, 1]).sum(-1)
    index = {code: k for k, code in enumerate(table.tolist())}
    unknown = sorted(set(np.unique(codes).tolist()) - set(index))
    if unknown:
        colour = tuple(int(c) for c in rgb.reshape(-1, 3)[(codes.reshape(-1) == unknown[0]).argmax()])
        raise DataFolderError(f"{path}: colour {colour} is not in the VOC palette; save masks as class indices "
                              f"(a palette or greyscale PNG), or colours from utils.voc.VOC_PALETTE")
    return np.vectorize(index.get, otypes=[np.uint8])(codes)


class VOCFolder(Dataset):
    """The ``split`` of a VOC-layout folder: item ``i`` is (image float32 (3, H, W) in [0, 1], labels int64 (H, W)).

    Labels are class indices with ``VOID`` (255) where nothing was labelled.
    ``num_classes`` is read from the data: one more than the largest index
    any mask of the split holds. Every problem (a missing folder or file, an
    empty split, an image and a mask of different sizes, a colour outside the
    palette) raises ``DataFolderError`` with one line saying which file.
    """

    def __init__(self, root: str | Path, split: str = "train") -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataFolderError(f"{self.root}: no such folder (expected a VOC layout: JPEGImages/, "
                                  f"SegmentationClass/, ImageSets/Segmentation/)")
        listing = self.root / "ImageSets" / "Segmentation" / f"{split}.txt"
        if not listing.is_file():
            found = sorted(p.stem for p in listing.parent.glob("*.txt"))
            raise DataFolderError(f"{listing}: no such split file; " + (f"choose a split from {found}" if found else
                                  f"{listing.parent} lists no split (one .txt file of image names per split)"))
        self.names = listing.read_text().split()
        if not self.names:
            raise DataFolderError(f"{listing}: the split is empty; list one image name per line")
        for name in self.names:
            image_path, mask_path = self.paths(name)
            for path in (image_path, mask_path):
                if not path.is_file():
                    raise DataFolderError(f"{path}: listed in {listing.name} but missing (images are .jpg, masks .png)")
            with Image.open(image_path) as image, Image.open(mask_path) as mask:  # headers only: cheap
                if image.size != mask.size:
                    raise DataFolderError(f"{mask_path}: mask is {mask.size[1]}x{mask.size[0]} pixels but its image is "
                                          f"{image.size[1]}x{image.size[0]}; each mask must match its image")
        self._num_classes: int | None = None

    def paths(self, name: str) -> tuple[Path, Path]:
        """The image and the mask of ``name``."""
        return self.root / "JPEGImages" / f"{name}.jpg", self.root / "SegmentationClass" / f"{name}.png"

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image_path, mask_path = self.paths(self.names[index])
        with Image.open(image_path) as picture:  # a phone's EXIF rotation applied, as its annotator saw it
            picture = ImageOps.exif_transpose(picture).convert("RGB")
            image = torch.from_numpy(np.array(picture)).permute(2, 0, 1).float() / 255
        labels = torch.from_numpy(read_mask(mask_path).astype(np.int64))
        if tuple(image.shape[1:]) != tuple(labels.shape):
            raise DataFolderError(f"{mask_path}: mask is {tuple(labels.shape)} pixels but its image is "
                                  f"{tuple(image.shape[1:])}; each mask must match its image")
        return image, labels

    @property
    def num_classes(self) -> int:
        """One more than the largest class index in the split's masks (void left out); read once.

        Refuses masks that cannot be class indices: a single class (a binary
        mask saved as 0 and 255, where 255 is void), or indices with wide
        gaps (colours or brightness saved instead of classes).
        """
        if self._num_classes is None:
            used: set[int] = set()
            for name in self.names:
                values = np.unique(read_mask(self.paths(name)[1]))
                used.update(int(v) for v in values if v != VOID)
            largest = max(used, default=0)
            if largest == 0:
                raise DataFolderError(f"{self.root}: every mask holds only class 0 (and 255, void): save class "
                                      f"indices 0, 1, 2, ... (a binary mask as 0 and 1, not 0 and 255)")
            if largest >= 8 and len(used) < (largest + 1) / 2:
                raise DataFolderError(f"{self.root}: the masks use {len(used)} of the indices 0..{largest}: those are "
                                      f"colours or brightness, not classes; save class indices (utils.voc.read_mask)")
            self._num_classes = largest + 1
        return self._num_classes
