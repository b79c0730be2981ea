"""Joint augmentation moves labels with the image and invents none; bilinear label resizing does."""

import pytest
import torch
import torch.nn.functional as F
from torchvision import tv_tensors

from utils.augment import (augment_batch, invented_labels, joint_augmentation, joint_random_crop,
                           resize_labels_bilinear)
from utils.data import NUM_CLASSES, VOID, Shapes


def test_joint_augmentation_is_reproducible_and_invents_no_class():
    images, semantic = Shapes("test", 6).batch(range(6))
    transform = joint_augmentation(64)
    a = augment_batch(images, semantic, transform, generator_seed=7)
    b = augment_batch(images, semantic, transform, generator_seed=7)
    c = augment_batch(images, semantic, transform, generator_seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[1], c[1])
    for before, after in zip(semantic, a[1]):
        assert set(after.unique().tolist()) <= set(before.unique().tolist()) | {VOID}
    assert a[0].shape == images.shape


def test_image_and_mask_move_together():
    image, target = Shapes("test", 3)[2]
    transform = joint_augmentation(64)
    torch.manual_seed(0)
    new_image, new_mask = transform(tv_tensors.Image(image), tv_tensors.Mask(target["semantic"]))
    # The object pixels of the new mask are where the new image has the object's colours: re-render nothing,
    # but check the background pixels of the mask carry the background texture's mean colour.
    background = image[:, target["semantic"] == 0].mean(1)
    moved = new_image[:, new_mask == 0].mean(1)
    assert (background - moved).abs().max() < 0.08


def test_boxes_follow_and_stay_on_the_canvas():
    image, target = Shapes("test", 2)[1]
    boxes = tv_tensors.BoundingBoxes(target["boxes"], format="XYXY", canvas_size=(64, 64))
    torch.manual_seed(3)
    _, _, new_boxes = joint_augmentation(64, boxes=True)(tv_tensors.Image(image), tv_tensors.Mask(target["semantic"]),
                                                         boxes)
    assert len(new_boxes) >= 1 and (new_boxes >= 0).all() and (new_boxes <= 64).all()


def test_bilinear_resizing_invents_classes_and_nearest_does_not():
    _, semantic = Shapes("test", 20).batch(range(20))
    invented = invented_labels(semantic, 128, NUM_CLASSES)
    assert invented.sum() > 0
    nearest = F.interpolate(semantic[:, None].float(), size=(128, 128), mode="nearest")[:, 0].long()
    assert not torch.equal(nearest, resize_labels_bilinear(semantic, 128))
    two = torch.tensor([[[0, 0, 5, 5]] * 4])
    between = set(resize_labels_bilinear(two, 8).unique().tolist()) - {0, 5}
    assert between and between <= {1, 2, 3, 4}  # between background and ring: classes no pixel had


def test_joint_random_crop_cuts_one_window_from_both_and_reaches_every_offset():
    image, mask = torch.arange(2 * 5 * 7.0).reshape(2, 5, 7), torch.arange(35).reshape(5, 7)
    windows = set()
    for seed in range(300):
        crop, labels = joint_random_crop(image, mask, 3, torch.Generator().manual_seed(seed))
        top, left = divmod(int(labels[0, 0]), 7)
        assert torch.equal(crop, image[:, top:top + 3, left:left + 3]) and labels.dtype == mask.dtype
        windows.add((top, left))
    assert windows == {(t, c) for t in range(3) for c in range(5)}, "every offset, the last ones included"
    with pytest.raises(ValueError, match="size"):
        joint_random_crop(image, mask, 6, torch.Generator())
    with pytest.raises(ValueError, match="mask"):
        joint_random_crop(image, mask[:4], 3, torch.Generator())
