"""The synthetic scenes every chapter segments: ``Shapes``.

Each scene holds 1 to 4 objects on a textured background. An object's *shape*
decides its class; its colour and texture are drawn from the same random
distribution as the background's, so no single pixel tells the class: a model
has to look at context. Object radii are uniform between 3/64 and 26/64 of the
image side (a few pixels to most of the image), centres keep most of each
object in the frame, and later objects occlude earlier ones but leave at least
60% of each visible. Crowded scenes (``crowded=1.0``, chapter 7) put 2 to 4
objects of one class in contact, the case where one semantic label map
cannot tell instances apart.

A ``Distribution`` changes what scenes are drawn (chapter 9): a rare class
(``RARE_CROSSES``: crosses are 5% of objects), only small or only large
objects (``SMALL_OBJECTS``, ``LARGE_OBJECTS``: a training set and a shifted
test set), and a void band of ``VOID`` pixels on every outline, the way PASCAL
VOC's annotators left the pixels along an edge unlabelled.

Used by every chapter; introduced in ``lectures/01_segmentation_tasks``.
``Cluttered`` draws the scenes of chapter 8 (attention) with the same
renderer: one whole target shape among slivers of others. ``damage`` and
``one_hot`` make chapter 4's starting labels: a label map with blocks of
confident mistakes, as probabilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from skimage.segmentation import find_boundaries
from torch.utils.data import Dataset

CLASS_NAMES: tuple[str, ...] = ("background", "disk", "square", "triangle", "cross", "ring")
NUM_CLASSES: int = len(CLASS_NAMES)
#: One RGB colour (uint8) per class, background first; shape ``(NUM_CLASSES, 3)``.
PALETTE: np.ndarray = np.array(
    [[24, 24, 32], [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [204, 121, 167]],
    dtype=np.uint8,
)
SPLITS: dict[str, int] = {"train": 0, "val": 1, "test": 2}

#: Object half-extent, as a fraction of the image side: uniform in this range.
_RADIUS_RANGE = (3 / 64, 26 / 64)
#: An object is kept only if at least this fraction of every earlier object stays visible.
_MIN_VISIBLE = 0.6
#: An object's centre lies at least this many radii inside the image border.
_IN_FRAME = 0.6
#: Most objects a scene holds (a crowded scene's group of 4 and one more).
_MAX_OBJECTS = 5
#: A crowded group's radii, as a fraction of the image side: mid-sized, so that several fit side by side.
_CROWD_RADIUS_RANGE = (6 / 64, 14 / 64)
_MIN_COLOUR_GAP = 0.6
#: Largest swing of a texture around its base colour, per channel.
_TEXTURE_AMPLITUDE = 0.15


#: The label of a pixel no one labelled (PASCAL VOC's void): losses and metrics ignore it.
VOID = 255


@dataclass(frozen=True)
class Distribution:
    """Which scenes ``Shapes`` draws: ``class_shares`` (one share per object class, disk to ring, summing to 1;
    ``None``: uniform), ``radius_range`` (object half-extent as a share of the image side), ``void_border``
    (a 2-pixel band of ``VOID`` on every outline in the semantic map, as in PASCAL VOC)."""

    class_shares: tuple[float, ...] | None = None
    radius_range: tuple[float, float] = _RADIUS_RANGE
    void_border: bool = False

    def __post_init__(self) -> None:
        shares = self.class_shares
        if shares is not None and (len(shares) != NUM_CLASSES - 1 or min(shares) < 0 or abs(sum(shares) - 1) > 1e-6):
            raise ValueError(f"class_shares must be {NUM_CLASSES - 1} non-negative shares summing to 1, got {shares}")
        low, high = self.radius_range
        if not 0 < low <= high <= 0.5:
            raise ValueError(f"radius_range must satisfy 0 < low <= high <= 0.5 (shares of the side), got {self.radius_range}")

    def object_class(self, u: float) -> int:
        """The class (1..NUM_CLASSES-1) of a uniform draw ``u`` in [0, 1)."""
        if self.class_shares is None:
            return 1 + int(u * (NUM_CLASSES - 1))
        return 1 + min(int(np.searchsorted(np.cumsum(self.class_shares), u, side="right")), NUM_CLASSES - 2)


#: The scenes of chapters 1 to 8.
STANDARD = Distribution()
#: Chapter 9's rare class: crosses are 5% of objects, the other four shapes share the rest; VOC-style void outlines.
RARE_CROSSES = Distribution(class_shares=(0.2375, 0.2375, 0.2375, 0.05, 0.2375), void_border=True)
#: Chapter 9's shift: a training set of small objects only, a test set of large objects only.
SMALL_OBJECTS = Distribution(radius_range=(3 / 64, 13 / 64))
LARGE_OBJECTS = Distribution(radius_range=(13 / 64, 26 / 64))
#: The distributions a zoo model can name (``ModelSpec.scenes`` and ``test_scenes``).
DISTRIBUTIONS = {"shapes": STANDARD, "rare_crosses": RARE_CROSSES, "small_objects": SMALL_OBJECTS,
                 "large_objects": LARGE_OBJECTS}


def _shape_mask(cls: int, dx: np.ndarray, dy: np.ndarray, angle: float) -> np.ndarray:
    """Boolean mask of class ``cls``: ``dx`` (1,w) and ``dy`` (h,1) are offsets from the centre in radii."""
    if cls == 1:  # disk: round, so the rotation is skipped
        return dx * dx + dy * dy <= 1.0
    if cls == 5:  # ring: a disk with a hole
        r2 = dx * dx + dy * dy
        return (r2 <= 1.0) & (r2 >= 0.36)
    cos, sin = math.cos(angle), math.sin(angle)
    u, v = cos * dx + sin * dy, cos * dy - sin * dx
    if cls == 2:  # square, area close to the disk's
        return np.maximum(np.abs(u), np.abs(v)) <= 0.85
    if cls == 3:  # equilateral triangle inscribed in the unit circle
        return (v <= 0.5) & (0.866 * u - 0.5 * v <= 0.5) & (-0.866 * u - 0.5 * v <= 0.5)
    if cls == 4:  # plus-shaped cross with thin arms
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.3) & (av <= 1.0)) | ((av <= 0.3) & (au <= 1.0))
    raise ValueError(f"cls must be in 1..{NUM_CLASSES - 1}, got {cls}")


def _texture(rng: np.random.Generator, ys: np.ndarray, xs: np.ndarray, base: np.ndarray) -> np.ndarray:
    """A random texture around colour ``base`` (3,) on the grid ``ys`` (h,1), ``xs`` (1,w).

    One of flat, stripes, checker or grain; returns float32 (3,h,w), values
    may leave [0,1] slightly (the scene is clipped once at the end).
    """
    # One draw for every parameter: on 64x64 scenes numpy's per-call overhead dominates.
    u = rng.random(8, dtype=np.float32)
    kind = int(4 * u[3])
    if kind == 0:
        return np.broadcast_to(base[:, None, None], (3, ys.shape[0], xs.shape[1]))
    if kind == 1:
        theta, freq, phase = (u[4:7] * _STRIPE_SCALE).tolist()
        p = np.sin(freq * (xs * math.cos(theta) + ys * math.sin(theta)) + phase)
    elif kind == 2:
        cell = 2 + int(5 * u[7])
        p = (((ys // cell) + (xs // cell)) % 2) * np.float32(2) - 1
    else:
        p = rng.random((ys.shape[0], xs.shape[1]), dtype=np.float32) * 2 - 1
    texture = np.multiply((_TEXTURE_AMPLITUDE * u[:3])[:, None, None], p)
    texture += base[:, None, None]
    return texture


#: Stripe angle, frequency (radians per pixel) and phase from three uniform draws.
_STRIPE_SCALE = np.array([math.pi, 1.3, 2 * math.pi], dtype=np.float32)


def _distinct_colour(rng: np.random.Generator, taken: list[np.ndarray]) -> np.ndarray:
    """A colour (3,) at least ``_MIN_COLOUR_GAP`` (L1) from every colour in ``taken``, else the farthest of 8."""
    candidates = rng.random((8, 1, 3), dtype=np.float32)
    gaps = np.abs(candidates - np.stack(taken)).sum(-1).min(1)
    best = int(np.argmax(gaps >= _MIN_COLOUR_GAP)) if gaps.max() >= _MIN_COLOUR_GAP else int(gaps.argmax())
    return candidates[best, 0]


def _placed(cls: int, radius: float, cy: float, cx: float, angle: float, image_size: int, ys: np.ndarray,
            xs: np.ndarray) -> tuple[int, tuple[slice, slice], np.ndarray]:
    """An object of class ``cls`` centred at (``cy``, ``cx``): its class, its window (rows, columns), its mask there.

    Only the window is rendered: most objects are small.
    """
    rows = slice(max(0, int(cy - radius)), min(image_size, int(cy + radius) + 2))
    cols = slice(max(0, int(cx - radius)), min(image_size, int(cx + radius) + 2))
    dy, dx = (ys[rows] - cy) / radius, (xs[:, cols] - cx) / radius
    return cls, (rows, cols), _shape_mask(cls, dx, dy, angle)


def _object_mask(u: list[float], image_size: int, ys: np.ndarray, xs: np.ndarray,
                 distribution: Distribution = STANDARD) -> tuple[int, tuple[slice, slice], np.ndarray]:
    """One object from five uniform numbers ``u`` (class, radius, centre y, centre x, angle), as ``_placed``."""
    u_cls, u_radius, u_y, u_x, u_angle = u
    cls = distribution.object_class(u_cls)
    lo, hi = distribution.radius_range[0] * image_size, distribution.radius_range[1] * image_size
    radius = lo + (hi - lo) * u_radius
    # Centres keep most of the object in the frame: a shape cut in half by the border has no class.
    margin = min(_IN_FRAME * radius, (image_size - 1) / 2)
    cy, cx = margin + u_y * (image_size - 1 - 2 * margin), margin + u_x * (image_size - 1 - 2 * margin)
    return _placed(cls, radius, cy, cx, 2 * np.pi * u_angle, image_size, ys, xs)


class _Canvas:
    """A scene being drawn: a textured background, then objects that keep every earlier one ``_MIN_VISIBLE`` visible."""

    def __init__(self, rng: np.random.Generator, image_size: int) -> None:
        grid = np.arange(image_size, dtype=np.float32)
        self.rng, self.size, self.ys, self.xs = rng, image_size, grid[:, None], grid[None, :]
        self.colours = [rng.random(3, dtype=np.float32)]
        image = _texture(rng, self.ys, self.xs, self.colours[0])
        self.image = image.copy() if not image.flags.writeable else image  # a flat background is a broadcast view
        self.instance = np.zeros((image_size, image_size), dtype=np.int64)
        self.classes: list[int] = []
        self.visible = np.zeros(_MAX_OBJECTS + 1, dtype=np.int64)  # visible pixels of object k at index k
        self.areas = np.zeros(_MAX_OBJECTS + 1, dtype=np.int64)

    def add(self, cls: int, window: tuple[slice, slice], mask: np.ndarray) -> bool:
        """Draw the object if it is not empty and hides no earlier object too much; whether it was drawn."""
        area = int(np.count_nonzero(mask))
        if area == 0 or len(self.classes) == _MAX_OBJECTS:
            return False
        rows, cols = window
        labels = self.instance[rows, cols]
        if self.classes:  # would this object hide too much of an earlier one?
            after = self.visible - np.bincount(labels[mask], minlength=_MAX_OBJECTS + 1)
            if np.any(after[1:] < _MIN_VISIBLE * self.areas[1:]):
                return False
            self.visible = after
        colour = _distinct_colour(self.rng, self.colours)
        np.copyto(self.image[:, rows, cols], _texture(self.rng, self.ys[rows], self.xs[:, cols], colour), where=mask)
        self.classes.append(cls)
        labels[mask] = len(self.classes)
        self.visible[len(self.classes)] = self.areas[len(self.classes)] = area
        self.colours.append(colour)
        return True

    def result(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        return np.clip(self.image, 0.0, 1.0, out=self.image), self.instance, self.classes


def render_scene(rng: np.random.Generator, image_size: int,
                 distribution: Distribution = STANDARD) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Draw one scene of ``distribution``.

    Returns ``image`` float32 (3,H,W) in [0,1], ``instance`` int64 (H,W) with
    0 for background and k for the k-th kept object, and the class of each
    kept object (list of length N, values 1..NUM_CLASSES-1).
    """
    canvas = _Canvas(rng, image_size)
    for _ in range(rng.integers(1, 5)):
        # One draw for all of the object's parameters: each rng call costs microseconds.
        canvas.add(*_object_mask(rng.random(5).tolist(), image_size, canvas.ys, canvas.xs, distribution))
    if not canvas.classes:  # every draw fell off the image: draw the scene again
        return render_scene(rng, image_size, distribution)
    return canvas.result()


def render_crowded_scene(rng: np.random.Generator, image_size: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Draw one crowded scene: a group of 2 to 4 objects of one class, each touching or overlapping another.

    Each new member is placed at a random angle from a random earlier member,
    at 75% to 100% of the sum of their radii, so that members touch; the
    ``_MIN_VISIBLE`` rule still holds. One more object of any class may follow.
    Returns what ``render_scene`` returns.
    """
    canvas = _Canvas(rng, image_size)
    lo, hi = _CROWD_RADIUS_RANGE[0] * image_size, _CROWD_RADIUS_RANGE[1] * image_size
    cls, group = 1 + int(rng.random() * (NUM_CLASSES - 1)), int(rng.integers(2, 5))
    centres: list[tuple[float, float, float]] = []
    for attempt in range(4 * group):
        if len(centres) == group:
            break
        u_radius, u_angle, u_gap, u_y, u_x, u_pick = rng.random(6).tolist()
        radius = lo + (hi - lo) * u_radius
        if centres:
            py, px, pr = centres[int(u_pick * len(centres))]
            distance = (pr + radius) * (0.75 + 0.25 * u_gap)
            cy, cx = py + distance * math.sin(2 * np.pi * u_angle), px + distance * math.cos(2 * np.pi * u_angle)
        else:
            margin = _IN_FRAME * radius + hi
            cy, cx = margin + u_y * (image_size - 1 - 2 * margin), margin + u_x * (image_size - 1 - 2 * margin)
        inside = min(cy, cx) >= _IN_FRAME * radius and max(cy, cx) <= image_size - 1 - _IN_FRAME * radius
        if inside and canvas.add(*_placed(cls, radius, cy, cx, 2 * np.pi * u_pick, image_size, canvas.ys, canvas.xs)):
            centres.append((cy, cx, radius))
    if rng.random() < 0.5:
        canvas.add(*_object_mask(rng.random(5).tolist(), image_size, canvas.ys, canvas.xs))
    if len(centres) < 2:  # the group did not fit: draw the scene again
        return render_crowded_scene(rng, image_size)
    return canvas.result()


def instance_targets(instance: np.ndarray, classes: list[int]) -> dict[str, torch.Tensor]:
    """torchvision-style targets from an instance map.

    ``instance`` int64 (H,W) (0 = background, k = object k, every k in 1..N present),
    ``classes`` length N. Returns ``semantic`` int64 (H,W), ``masks`` bool (N,H,W),
    ``labels`` int64 (N,), ``boxes`` float32 (N,4) as xyxy pixel edges enclosing each mask.
    """
    labels = np.array(classes, dtype=np.int64)
    masks = instance[None] == np.arange(1, len(classes) + 1)[:, None, None]
    rows, cols = masks.any(2), masks.any(1)
    height, width = instance.shape
    boxes = np.stack(
        [cols.argmax(1), rows.argmax(1), width - cols[:, ::-1].argmax(1), height - rows[:, ::-1].argmax(1)], 1
    ).astype(np.float32)
    return {
        "semantic": torch.from_numpy(np.concatenate([[0], labels])[instance]),
        "masks": torch.from_numpy(masks),
        "labels": torch.from_numpy(labels),
        "boxes": torch.from_numpy(boxes),
    }


def _check_scenes(split: str, length: int, image_size: int) -> None:
    """Refuse a split, a number of scenes or a canvas no data set of the course can have, naming the parameter."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    if length < 1:
        raise ValueError(f"length must be a positive number of scenes, got {length}")
    if image_size < 16:
        raise ValueError(f"image_size must be at least 16 pixels, got {image_size}")


class Shapes(Dataset):
    """Synthetic scenes of shapes; an item is ``(image, target)``.

    ``image``: float32 (3,H,W) in [0,1]. ``target``: ``semantic`` int64 (H,W)
    (0 = background), ``masks`` bool (N,H,W) (the visible part of each object;
    their union is the foreground of ``semantic``), ``labels`` int64 (N,) in
    1..NUM_CLASSES-1, ``boxes`` float32 (N,4) xyxy.

    Scene ``index`` of ``split`` is a pure function of ``(seed, split, index)``,
    so the same arguments always give the same bytes and splits never share a
    scene. ``crowded`` is the share of crowded scenes (chapter 7's
    ``render_crowded_scene``: touching objects of one class), drawn from a
    random stream of their own under the same contract: ``True`` (1.0) for
    crowded scenes only, 0.5 for every second one (scenes 1, 3, 5, ...).
    ``distribution`` (chapter 9) changes the ordinary scenes' classes and
    sizes and may add ``VOID`` outlines to ``semantic``; ``STANDARD`` draws
    the same bytes as before it existed.
    """

    def __init__(self, split: str, length: int, image_size: int = 64, seed: int = 0,
                 crowded: float = 0.0, distribution: Distribution = STANDARD) -> None:
        _check_scenes(split, length, image_size)
        if not 0 <= crowded <= 1:
            raise ValueError(f"crowded must be a share of scenes in [0, 1], got {crowded}")
        self.split, self.length, self.image_size, self.seed, self.crowded = split, length, image_size, seed, crowded
        self.distribution = distribution

    def __len__(self) -> int:
        return self.length

    def scene(self, index: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The raw scene ``index``: image (3,H,W), instance map (H,W), classes (N,)."""
        if not 0 <= index < self.length:
            raise IndexError(f"index must be in 0..{self.length - 1}, got {index}")
        if math.floor((index + 1) * self.crowded) > math.floor(index * self.crowded):  # this scene is a crowded one
            return render_crowded_scene(np.random.default_rng([self.seed, SPLITS[self.split], index, 1]), self.image_size)
        return render_scene(np.random.default_rng([self.seed, SPLITS[self.split], index]), self.image_size,
                            self.distribution)

    def semantic(self, instance: np.ndarray, classes: list[int]) -> np.ndarray:
        """The (H, W) int64 class map of a raw scene, with ``VOID`` outlines if the distribution has them."""
        semantic = np.array([0] + classes, dtype=np.int64)[instance]
        if self.distribution.void_border:
            semantic[find_boundaries(instance, mode="thick")] = VOID
        return semantic

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image, instance, classes = self.scene(index)
        target = instance_targets(instance, classes)
        if self.distribution.void_border:
            target["semantic"] = torch.from_numpy(self.semantic(instance, classes))
        return torch.from_numpy(image), target

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B,3,H,W) and semantic maps (B,H,W) for ``indices``: the fast path for training."""
        images, semantics = [], []
        for i in indices:
            image, instance, classes = self.scene(int(i))
            images.append(image)
            semantics.append(self.semantic(instance, classes))
        return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(semantics))


#: A cluttered scene's target: its size (twice its radius), as a share of the canvas side (chapter 8).
TARGET_SIDE = (0.15, 0.40)
#: How far a shape reaches from its centre, in radii: a square's corner (0.85 x sqrt 2).
_REACH = 1.21
#: A clutter fragment is its shape cut to a straight band this share of the shape's radius wide: a sliver,
#: never a whole silhouette (a square window would leave a small square, which looks like the square class).
_FRAGMENT_WIDTH = 0.5


def _fragment(rng: np.random.Generator, image_size: int, ys: np.ndarray, xs: np.ndarray,
              side: tuple[float, float]) -> tuple[tuple[slice, slice], np.ndarray]:
    """A sliver of a random shape of the target's sizes, anywhere on the canvas: its window and its mask there."""
    u_cls, u_radius, u_y, u_x, u_angle, u_band, u_offset = rng.random(7).tolist()
    radius = image_size * (side[0] + (side[1] - side[0]) * u_radius) / 2
    cy, cx = u_y * (image_size - 1), u_x * (image_size - 1)
    cls, (rows, cols), mask = _placed(1 + int(u_cls * (NUM_CLASSES - 1)), radius, cy, cx, 2 * np.pi * u_angle,
                                      image_size, ys, xs)
    theta = math.pi * u_band
    across = (xs[:, cols] - cx) * math.cos(theta) + (ys[rows] - cy) * math.sin(theta) - (u_offset - 0.5) * radius
    return (rows, cols), mask & (np.abs(across) <= _FRAGMENT_WIDTH * radius / 2)


def render_cluttered_scene(rng: np.random.Generator, image_size: int, clutter: int,
                           side: tuple[float, float] = TARGET_SIDE) -> tuple[np.ndarray, np.ndarray, int]:
    """Draw one cluttered scene: ``clutter`` fragments of shapes, then one whole target shape on top.

    Returns ``image`` float32 (3,H,W) in [0,1], the target's ``mask`` bool
    (H,W) and its class (1..NUM_CLASSES-1). The target lies wholly inside the
    canvas; fragments may lie under it.
    """
    grid = np.arange(image_size, dtype=np.float32)
    ys, xs = grid[:, None], grid[None, :]
    colours = [rng.random(3, dtype=np.float32)]
    image = np.array(_texture(rng, ys, xs, colours[0]))
    for _ in range(clutter):
        (rows, cols), mask = _fragment(rng, image_size, ys, xs, side)
        colours.append(_distinct_colour(rng, colours[:1]))
        np.copyto(image[:, rows, cols], _texture(rng, ys[rows], xs[:, cols], colours[-1]), where=mask)
    u_cls, u_radius, u_y, u_x, u_angle = rng.random(5).tolist()
    radius = image_size * (side[0] + (side[1] - side[0]) * u_radius) / 2
    margin = _REACH * radius  # a rotated square's corners reach past its radius
    cy, cx = margin + u_y * (image_size - 1 - 2 * margin), margin + u_x * (image_size - 1 - 2 * margin)
    cls, (rows, cols), mask = _placed(1 + int(u_cls * (NUM_CLASSES - 1)), radius, cy, cx, 2 * np.pi * u_angle,
                                      image_size, ys, xs)
    colour = _distinct_colour(rng, colours[:1])
    np.copyto(image[:, rows, cols], _texture(rng, ys[rows], xs[:, cols], colour), where=mask)
    target = np.zeros((image_size, image_size), dtype=bool)
    target[rows, cols] = mask
    return np.clip(image, 0.0, 1.0, out=image), target, cls


class Cluttered(Dataset):
    """Chapter 8's scenes: one whole target shape among fragments of others; an item is ``(image, target)``.

    ``image``: float32 (3,H,W) in [0,1]. ``target``: ``label`` int64 () in
    1..NUM_CLASSES-1 (the target's class, the scene's label), ``mask`` bool
    (H,W) (the target's pixels), ``box`` float32 (4,) xyxy pixel edges. The
    target's size (twice its radius) is a share ``side`` of the canvas (15% to
    40% by default);
    ``clutter`` fragments (each a sliver of a shape: the shape cut to a
    straight band a quarter of its diameter wide, so only the target shows a
    whole silhouette) lie under it. Scene ``index`` is a pure function of ``(seed, split,
    index)``, as for ``Shapes``, from a random stream of its own.
    """

    def __init__(self, split: str, length: int, image_size: int = 64, clutter: int = 8, seed: int = 0,
                 side: tuple[float, float] = TARGET_SIDE) -> None:
        _check_scenes(split, length, image_size)
        if clutter < 0:
            raise ValueError(f"clutter must be a number of fragments, 0 or more, got {clutter}")
        if not 0 < side[0] <= side[1] <= 1:
            raise ValueError(f"side must be (smallest, largest) shares of the canvas with 0 < smallest <= largest "
                             f"<= 1, got {side}")
        self.split, self.length, self.image_size, self.seed = split, length, image_size, seed
        self.clutter, self.side = clutter, tuple(side)

    def __len__(self) -> int:
        return self.length

    def scene(self, index: int) -> tuple[np.ndarray, np.ndarray, int]:
        """The raw scene ``index``: image (3,H,W), target mask (H,W), target class."""
        if not 0 <= index < self.length:
            raise IndexError(f"index must be in 0..{self.length - 1}, got {index}")
        rng = np.random.default_rng([self.seed, SPLITS[self.split], index, 2])
        return render_cluttered_scene(rng, self.image_size, self.clutter, self.side)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        image, mask, cls = self.scene(index)
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        box = np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float32)
        return torch.from_numpy(image), {"label": torch.tensor(cls), "mask": torch.from_numpy(mask),
                                         "box": torch.from_numpy(box)}

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B,3,H,W) and labels (B,) for ``indices``: the fast path for training."""
        scenes = [self.scene(int(i)) for i in indices]
        return (torch.from_numpy(np.stack([image for image, _, _ in scenes])),
                torch.tensor([cls for _, _, cls in scenes]))


def damage(semantic: torch.Tensor, blocks: int = 6, size: int = 12, seed: int = 0) -> torch.Tensor:
    """``semantic`` (H, W) with ``blocks`` random ``size``x``size`` squares relabelled: (H, W).

    Each square's labels all move by one random non-zero shift (modulo the
    number of classes), so every pixel in it gets a wrong class, and the
    square stays one coherent block of errors, like a confident mistake.
    """
    if blocks < 0 or size < 1:
        raise ValueError(f"blocks must be >= 0 and size >= 1, got blocks={blocks}, size={size}")
    generator = torch.Generator().manual_seed(seed)
    damaged = semantic.clone()
    height, width = semantic.shape
    for _ in range(blocks):
        y, x = (torch.randint(max(1, n - size + 1), (1,), generator=generator).item() for n in (height, width))
        block = damaged[y:y + size, x:x + size]
        shift = torch.randint(1, NUM_CLASSES, (1,), generator=generator)
        damaged[y:y + size, x:x + size] = (block + shift) % NUM_CLASSES
    return damaged


def one_hot(labels: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """(..., H, W) integer labels -> (..., num_classes, H, W) float probabilities (all mass on one class)."""
    return F.one_hot(labels, num_classes).movedim(-1, -3).float()
