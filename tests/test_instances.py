"""Chapter 7's pieces: proposals, SDS crops, mask heads, the frozen trunk, mask NMS, training targets."""

import pytest
import torch

from utils.chapters import instance_segmentation
from utils.data import NUM_CLASSES, Shapes
from utils.metrics import scene_matches
from utils.models import CFM, SDS, FCN8s, FrozenTrunk, MaskHead
from utils.models.mask_heads import HYPERCOLUMN, LAST_LAYER, MASK_SIZE
from utils.models.sds import CFM_SCALE, CROP_SIZE, crops
from utils.proposals import best_overlap, boxes_of, proposals
from utils.zoo.instance_training import (
    POSITIVES_PER_SCENE,
    PROPOSALS_PER_SCENE,
    head_examples,
    proposal_labels,
    sample_proposals,
)
from utils.zoo.instances import METHODS, as_prediction, mask_nms, models_read, predict_scenes


@pytest.fixture(scope="module")
def trunk():
    torch.manual_seed(0)
    return FrozenTrunk(FCN8s(NUM_CLASSES))


def two_squares() -> torch.Tensor:
    image = torch.full((3, 64, 64), 0.2)
    image[:, 8:24, 8:24] = torch.tensor([0.9, 0.1, 0.1])[:, None, None]
    image[:, 36:60, 30:54] = torch.tensor([0.1, 0.2, 0.9])[:, None, None]
    return image


def test_proposals_find_flat_objects_and_refuse_bad_images():
    image = two_squares()
    masks = proposals(image)
    truth = torch.zeros(2, 64, 64, dtype=torch.bool)
    truth[0, 8:24, 8:24] = True
    truth[1, 36:60, 30:54] = True
    assert best_overlap(masks, truth).min() == 1.0
    assert len(torch.unique(masks, dim=0)) == len(masks)
    assert masks.flatten(1).sum(1).min() >= 16
    with pytest.raises(ValueError, match="image"):
        proposals(image[0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        proposals(image * 3)
    with pytest.raises(ValueError, match="scales"):
        proposals(image, scales=())


def test_boxes_of_matches_the_data_sets_boxes():
    target = Shapes("test", 1, image_size=128)[0][1]
    torch.testing.assert_close(boxes_of(target["masks"]), target["boxes"])


def test_mask_nms_keeps_the_best_of_overlapping_masks():
    masks = torch.zeros(3, 8, 8, dtype=torch.bool)
    masks[0, :4, :4] = masks[1, :4, :5] = masks[2, 4:, 4:] = True
    keep = mask_nms(masks, torch.tensor([0.5, 0.9, 0.1]))
    assert keep.tolist() == [1, 2]
    with pytest.raises(ValueError, match="threshold"):
        mask_nms(masks, torch.ones(3), 1.5)
    prediction = as_prediction(masks, torch.tensor([1, 1, 2]), torch.tensor([0.5, 0.9, 0.1]))
    assert prediction["labels"].tolist() == [1, 2] and prediction["boxes"].shape == (2, 4)


def test_region_crops_are_box_crops_with_the_background_zeroed():
    image = torch.rand(3, 64, 64)
    masks = torch.zeros(1, 64, 64, dtype=torch.bool)
    masks[0, 9:41, 9:26] = True  # one pixel beyond the box: bilinear samples at its edge still see the mask
    box = torch.tensor([[10.0, 10.0, 25.0, 40.0]])
    box_crop, region_crop = crops(image, masks, box)
    assert box_crop.shape == (1, 3, CROP_SIZE, CROP_SIZE)
    torch.testing.assert_close(region_crop, box_crop)  # the box holds only the mask
    masks[0] = False
    masks[0, 10:40, 10:25] = True
    masks[0, 10:20, 10:25] = False
    masks[0, 39, 24] = True
    box_crop, region_crop = crops(image, masks, torch.tensor([[10.0, 10.0, 25.0, 40.0]]))
    assert region_crop[..., :CROP_SIZE // 4, :].abs().sum() == 0 < box_crop[..., :CROP_SIZE // 4, :].abs().sum()


def test_cfm_runs_the_trunk_once_and_pools_box_and_mask_apart(trunk, monkeypatch):
    model, image = CFM(trunk), torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(3))
    masks = torch.zeros(2, 64, 64, dtype=torch.bool)
    masks[0, 8:24, 8:24] = True
    masks[1, 36:60, 30:54] = True
    masks[1, 36:48] = False  # half the box outside the mask
    boxes = torch.tensor([[8.0, 8.0, 24.0, 24.0], [30.0, 36.0, 54.0, 60.0]])
    shapes = []

    def ramp_trunk(x):  # an fc7 that varies across the image, so where the pooling reads shows in its value
        shapes.append(x.shape)
        side = x.shape[-1] // 32
        return {"fc7": torch.arange(side * side, dtype=torch.float32).view(1, 1, side, side).expand(1, 256, -1, -1)}

    monkeypatch.setattr(trunk, "forward", ramp_trunk)
    features = model.features(image, masks, boxes)
    assert shapes == [(1, 3, 64 * CFM_SCALE, 64 * CFM_SCALE)], "one pass on the enlarged image, whatever P is"
    assert features["box"].shape == features["region"].shape == (2, 256)
    torch.testing.assert_close(features["region"][0], features["box"][0], atol=1e-4, rtol=1e-4)
    assert not torch.allclose(features["region"][1], features["box"][1], atol=1e-4), "the mask selects cells"


def test_the_trunk_stays_frozen_inside_a_training_model(trunk):
    model = SDS(trunk).train()
    assert not model.trunk.training and model.classifiers.training
    assert not any(p.requires_grad for p in model.trunk.parameters())
    features = trunk(torch.rand(2, 3, 64, 64))
    assert features["fc7"].shape == (2, 256, 2, 2) and features["pool2"].shape == (2, 32, 16, 16)


@pytest.mark.parametrize("layers", [LAST_LAYER, HYPERCOLUMN])
def test_mask_heads_predict_one_map_per_class_in_each_box(trunk, layers):
    head = MaskHead(layers, trunk)
    images = torch.rand(2, 3, 64, 64)
    boxes = [torch.tensor([[4.0, 4.0, 30.0, 40.0]]), torch.tensor([[0.0, 0.0, 64.0, 64.0], [10.0, 5.0, 20.0, 9.0]])]
    proposals = [torch.rand(1, 64, 64) > 0.5, torch.rand(2, 64, 64) > 0.5]
    logits = head(trunk(images), boxes, [p.float() for p in proposals], 64)
    assert logits.shape == (3, NUM_CLASSES - 1, MASK_SIZE, MASK_SIZE)
    shifted = head(trunk(images), boxes, [p.float() * 0 for p in proposals], 64)
    assert not torch.allclose(logits, shifted), "the head reads the proposal"
    with pytest.raises(ValueError, match="layers"):
        MaskHead(("conv9",), trunk)


def test_training_labels_samples_and_head_examples():
    truth = torch.zeros(1, 8, 8, dtype=torch.bool)
    truth[0, :4, :4] = True
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[0, :4, :3] = True  # IoU 0.75 with the object
    masks[1, 5:, 5:] = True
    assert proposal_labels(masks, truth, torch.tensor([3])).tolist() == [3, 0]
    classes = torch.tensor([1] * 30 + [0] * 100)
    pick = sample_proposals(classes, torch.Generator().manual_seed(0))
    assert len(pick) == PROPOSALS_PER_SCENE and (classes[pick] > 0).sum() == POSITIVES_PER_SCENE
    target = {"masks": truth, "labels": torch.tensor([3]), "proposals": masks.to(torch.uint8)}
    proposals, objects, labels = head_examples(target, torch.Generator().manual_seed(0))
    assert len(proposals) == 2 and torch.equal(proposals[0], truth[0]) and torch.equal(proposals[1], masks[0])
    assert torch.equal(objects, truth.expand(2, -1, -1)) and labels.tolist() == [3, 3], "the far proposal is left out"


def test_worker_processes_give_the_same_detections_as_one_process():
    """``predict_scenes`` may share scenes out to DataLoader workers; what each method finds must not change."""
    data = Shapes("test", 4, image_size=128, seed=3)
    methods = ("connected_components", "sds", "maskrcnn")
    alone, targets = predict_scenes(methods, data)
    shared, shared_targets = predict_scenes(methods, data, workers=2)
    assert [t["labels"].tolist() for t in targets] == [t["labels"].tolist() for t in shared_targets]
    for method in methods:
        for one, other in zip(alone[method], shared[method]):
            assert torch.equal(one["masks"], other["masks"]) and torch.equal(one["labels"], other["labels"])
            assert torch.allclose(one["scores"], other["scores"])
    with pytest.raises(ValueError, match="workers"):
        predict_scenes(methods, data, workers=-1)
    # what the parent loads before forking, so that workers share it: each method's models, no more
    assert models_read(methods) == ["fcn8s", "maskrcnn", "sds"]
    assert models_read(("hypercolumn",)) == ["hypercolumn", "sds"] and models_read(("sds_box",)) == ["sds"]


def test_the_widget_reuses_shared_detections_and_refuses_other_scenes():
    """Chapter 7 hands its detections to the widget; the widget must show those, not run the methods again."""
    data = instance_segmentation.test_scenes("crowded", 2)
    shared = {method: [{"scene": i, "method": method} for i in range(2)] for method in METHODS}
    instance_segmentation.share_detections(shared, data)
    try:
        assert instance_segmentation.scene_detections("crowded", 1)["hypercolumn"] is shared["hypercolumn"][1]
        assert ("ordinary", 1) not in instance_segmentation._DETECTIONS, "crowded scenes are not ordinary ones"
    finally:
        instance_segmentation._DETECTIONS.clear()
    with pytest.raises(ValueError, match="predictions"):
        instance_segmentation.share_detections(shared, Shapes("val", 2, image_size=128))
    with pytest.raises(ValueError, match="predictions"):
        instance_segmentation.share_detections({"sds": shared["sds"]}, data)


def test_the_figures_green_boxes_are_the_detections_mask_ap_counts():
    """``instance_segmentation.matches`` and ``metrics.scene_matches`` share one matching: they cannot drift apart."""
    image, target = Shapes("test", 1, image_size=64)[0]
    g = torch.Generator().manual_seed(0)
    masks = torch.cat([target["masks"], torch.rand(5, 64, 64, generator=g) > 0.6])
    labels = torch.cat([target["labels"], torch.randint(1, NUM_CLASSES, (5,), generator=g)])
    prediction = {"masks": masks, "labels": labels, "scores": torch.rand(len(labels), generator=g)}
    hit, found = instance_segmentation.matches(prediction, target, 0.5)
    assert found.all() and hit.sum() == len(target["labels"]), (hit, found)
    for cls, (_, flags, _) in scene_matches(prediction, target, (0.5,)).items():
        mine = hit[(labels == cls).numpy()][torch.argsort(prediction["scores"][labels == cls], descending=True).numpy()]
        assert (mine == flags[0]).all(), cls


def test_merges_and_error_kinds_are_told_apart():
    """Two touching disks: one detection covering both is a merge and a mislocalised detection, not a correct one."""
    masks = torch.zeros(2, 16, 16, dtype=torch.bool)
    masks[0, 2:8, 2:8] = True
    masks[1, 2:8, 8:14] = True
    target = {"masks": masks, "labels": torch.tensor([1, 1]), "boxes": torch.zeros(2, 4)}
    union = masks.any(0, keepdim=True)
    union[0, 8, 2:14] = True  # and a strip of background: IoU 36 / 84 with each disk
    merged = {"masks": union, "labels": torch.tensor([1]), "scores": torch.tensor([0.9])}
    assert instance_segmentation.merged_objects(merged, target).tolist() == [True, True]
    kinds = instance_segmentation.error_kinds(merged, target)
    assert kinds["mislocalised"] == 1 and kinds["correct"] == 0
    exact = {"masks": masks, "labels": torch.tensor([1, 3]), "scores": torch.tensor([0.9, 0.8])}
    assert instance_segmentation.error_kinds(exact, target) == {"correct": 1, "duplicate": 0, "mislocalised": 0,
                                                               "confused": 1, "background": 0}
    kept, truth = instance_segmentation.only_objects(exact, target, torch.tensor([False, True]))
    assert len(truth["labels"]) == 1 and len(kept["labels"]) == 1, "the detection of the other object is set aside"


def test_roialign_keeps_a_pooled_mask_where_roipool_moves_it():
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[13:30, 21:35] = True  # edges off the stride-8 grid
    result = instance_segmentation.pooled_mask_iou(mask)
    assert result["RoIAlign"] > result["RoIPool"] and 0 < result["rounding_px"] <= 4
