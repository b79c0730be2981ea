"""Chapter 9's helpers: the evaluation pitfalls, the widget's joint transform, the folder's batches and scoring."""

import pytest
import torch
from torch import nn

from utils.bootstrap import scene_confusions
from utils.chapters.your_own_data import augmented_pair, batch_averaged_miou, void_as_background
from utils.data import NUM_CLASSES, RARE_CROSSES, VOID, Shapes
from utils.metrics import mean_iou
from utils.voc import VOCFolder, write_voc
from utils.zoo.folders import FolderBatches, evaluate_on_folder


def confusions_of(*pairs: tuple[list[int], list[int]]) -> torch.Tensor:
    """(N, 2, 2)-class confusions of N one-row scenes, each given as (predicted, true) labels."""
    return torch.stack([scene_confusions(torch.tensor([[p]]), torch.tensor([[t]]), 2)[0] for p, t in pairs])


def test_batch_averaged_miou_differs_from_the_data_sets_and_equals_it_for_one_batch():
    # Scene 1 holds only background, scene 2 a large object predicted well: per batch, scene 1's mIoU is 1.0.
    scenes = confusions_of(([0, 0], [0, 0]), ([1, 1, 1, 0], [1, 1, 1, 1]))
    data_set = (2 / 3 + 3 / 4) / 2  # background: 2 of 3 pixels; the object: 3 of 4
    per_batch = (1.0 + (0 + 3 / 4) / 2) / 2  # scene 1 alone scores 1.0: its object class is absent, not wrong
    assert batch_averaged_miou(scenes, batch_size=len(scenes)) == pytest.approx(data_set)
    assert batch_averaged_miou(scenes, batch_size=1) == pytest.approx(per_batch) != data_set
    with pytest.raises(ValueError, match="batch_size"):
        batch_averaged_miou(scenes, 0)


def test_void_pixels_counted_as_background_lower_the_background_iou():
    labels = torch.tensor([[[0, VOID, 1, 1]]])
    predictions = torch.tensor([[[0, 1, 1, 1]]])  # the void pixel is predicted as the object, as at a real edge
    ignored = scene_confusions(predictions, labels, NUM_CLASSES).sum(0)
    counted = void_as_background(predictions, labels).sum(0)
    assert ignored.sum() == 3 and counted.sum() == 4
    assert counted[0, 1] == 1 and ignored[0, 1] == 0
    assert mean_iou(predictions, labels.where(labels != VOID, 0), NUM_CLASSES) < 1.0


def test_the_widgets_transform_moves_image_and_mask_together_and_only_bilinear_invents_labels():
    image, labels = Shapes("test", 1, image_size=64)[0][0], Shapes("test", 1, image_size=64).batch([0])[1][0]
    same_image, same_labels = augmented_pair(image, labels, 0.0, 1.0, "nearest")
    assert torch.allclose(same_image, image, atol=1e-6) and torch.equal(same_labels, labels)
    _, nearest = augmented_pair(image, labels, 30.0, 2.0, "nearest")
    _, bilinear = augmented_pair(image, labels, 30.0, 2.0, "bilinear")
    assert set(nearest.unique().tolist()) <= set(labels.unique().tolist())
    assert not torch.equal(nearest, bilinear)
    for bad in ({"mask_mode": "bicubic"}, {"zoom": 0.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            augmented_pair(image, labels, **{"angle": 0.0, "zoom": 1.0, "mask_mode": "nearest", **bad})


@pytest.fixture(scope="module")
def voc(tmp_path_factory):
    data = Shapes("train", 6, distribution=RARE_CROSSES)
    return write_voc(data, tmp_path_factory.mktemp("voc") / "VOC2012", {"train": range(4), "val": range(4, 6)})


def test_folder_batches_are_a_pure_function_of_seed_and_index_with_masks_cropped_like_images(voc):
    data = VOCFolder(voc, "train")
    batches = FolderBatches(data, batch_size=3, image_size=32, steps=5, seed=1)
    images, labels = batches[2]
    assert len(batches) == 5 and images.shape == (3, 3, 32, 32) and labels.shape == (3, 32, 32)
    assert torch.equal(batches[2][1], labels) and torch.equal(batches[2][0], images)
    assert not torch.equal(FolderBatches(data, 3, 32, 5, seed=2)[2][1], labels)
    assert set(labels.unique().tolist()) <= set(range(NUM_CLASSES)) | {VOID}, "nearest resampling: no new labels"


class Oracle(nn.Module):
    """Predicts the true class everywhere it is known: reads the folder's own masks in order."""

    def __init__(self, masks: list[torch.Tensor]) -> None:
        super().__init__()
        self.masks, self.calls, self.weight = masks, 0, nn.Parameter(torch.zeros(1))

    def segment(self, image: torch.Tensor) -> torch.Tensor:
        labels = self.masks[self.calls].where(self.masks[self.calls] != VOID, 0)
        self.calls += 1
        return nn.functional.one_hot(labels, NUM_CLASSES).permute(2, 0, 1)[None].float()


def test_scoring_a_folder_ignores_void_and_gives_a_perfect_model_miou_one(voc):
    data = VOCFolder(voc, "val")
    masks = [data[i][1] for i in range(len(data))]
    metrics = evaluate_on_folder(Oracle(masks), NUM_CLASSES, f"voc:{voc}", "val", image_size=masks[0].shape[-1])
    assert metrics["miou"] == pytest.approx(1.0) and metrics["pixel_accuracy"] == pytest.approx(1.0)


def test_each_comparison_has_one_budget_and_all_train_within_fifteen_minutes():
    # The shipped manifest's record (not a timing taken here): chapter 9's six models, <= 15 minutes in all.
    from utils.chapters.your_own_data import AUGMENTATION, LOSSES
    from utils.zoo.checkpoints import read_manifest

    manifest = read_manifest()
    for group in (AUGMENTATION, LOSSES):
        budgets = {tuple(manifest[n][k] for k in ("steps", "batch_size", "lr", "seed", "device", "parameters"))
                   for n in group.values()}
        assert len(budgets) == 1, group
    assert sum(manifest[n]["train_seconds"] for n in (*AUGMENTATION.values(), *LOSSES.values())) <= 15 * 60
