"""PASCAL VOC's layout: our scenes written and read back exactly, and every bad folder refused in one line."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.datasets import VOCSegmentation

from utils import evaluate, train
from utils.data import RARE_CROSSES, VOID, Shapes
from utils.voc import VOC_PALETTE, DataFolderError, VOCFolder, read_mask, write_voc

SPLITS = {"train": range(6), "val": range(6, 8)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("voc")
    data = Shapes("train", 8, distribution=RARE_CROSSES)
    return data, write_voc(data, root / "VOCdevkit" / "VOC2012", SPLITS)


def test_the_masks_come_back_exactly_and_torchvision_reads_the_same(folder):
    data, voc = folder
    ours = VOCFolder(voc, "train")
    theirs = VOCSegmentation(voc.parents[1], year="2012", image_set="train")
    assert len(ours) == len(theirs) == 6
    for i in range(6):
        image, labels = ours[i]
        assert torch.equal(labels, data.batch([i])[1][0])
        assert np.array_equal(np.array(theirs[i][1]), labels.numpy())
        assert image.shape == (3, 64, 64) and (image - data[i][0]).abs().mean() < 0.05  # JPEG: close, not equal
    assert (labels == VOID).any(), "the void band is written"
    assert ours.num_classes == 6


def test_the_palette_is_vocs():
    assert VOC_PALETTE[0].tolist() == [0, 0, 0] and VOC_PALETTE[1].tolist() == [128, 0, 0]
    assert VOC_PALETTE[15].tolist() == [192, 128, 128] and VOC_PALETTE[255].tolist() == [224, 224, 192]


def test_an_rgb_mask_is_read_through_the_palette_and_a_foreign_colour_refused(tmp_path):
    indices = np.array([[0, 1], [2, 255]], dtype=np.uint8)
    Image.fromarray(VOC_PALETTE[indices]).save(tmp_path / "rgb.png")
    assert np.array_equal(read_mask(tmp_path / "rgb.png"), indices)
    colours = VOC_PALETTE[indices].copy()
    colours[0, 0] = (1, 2, 3)
    Image.fromarray(colours).save(tmp_path / "odd.png")
    with pytest.raises(DataFolderError, match=r"colour \(1, 2, 3\) is not in the VOC palette"):
        read_mask(tmp_path / "odd.png")


@pytest.fixture
def broken(folder, tmp_path):
    """A copy of the folder to damage."""
    import shutil

    return shutil.copytree(folder[1], tmp_path / "VOC2012")


def test_bad_folders_are_refused_naming_the_file(broken, tmp_path):
    with pytest.raises(DataFolderError, match="no such folder"):
        VOCFolder(tmp_path / "missing")
    with pytest.raises(DataFolderError, match=r"no such split file; choose a split from \['train', 'val'\]"):
        VOCFolder(broken, "test")
    (broken / "ImageSets" / "Segmentation" / "empty.txt").write_text("\n")
    with pytest.raises(DataFolderError, match="the split is empty"):
        VOCFolder(broken, "empty")
    name = VOCFolder(broken, "val").names[0]
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8), mode="P").save(broken / "SegmentationClass" / f"{name}.png")
    with pytest.raises(DataFolderError, match="must match its image"):
        VOCFolder(broken, "val")
    (broken / "JPEGImages" / f"{name}.jpg").unlink()
    with pytest.raises(DataFolderError, match="missing"):
        VOCFolder(broken, "val")
    for listing in (broken / "ImageSets" / "Segmentation").glob("*.txt"):
        listing.unlink()
    with pytest.raises(DataFolderError, match="lists no split"):
        VOCFolder(broken, "val")


def test_the_commands_train_and_score_on_a_folder_and_refuse_bad_input_in_one_line(folder, tmp_path, capsys):
    _, voc = folder
    runs = tmp_path / "runs"
    train.main(["wide_singlescale", "--data", f"voc:{voc}", "--steps", "2", "--weights-dir", str(runs)])
    assert "6 classes from voc:" in capsys.readouterr().out
    evaluate.main(["wide_singlescale", "--data", f"voc:{voc}", "--split", "val", "--weights-dir", str(runs), "--json"])
    assert '"miou"' in capsys.readouterr().out
    for argv in (["fcn8s", "--data", f"voc:{tmp_path / 'nope'}"], ["fcn8s", "--data", f"coco:{voc}"],
                 ["sds", "--data", f"voc:{voc}"], ["fcn8s", "fcn16s", "--data", f"voc:{voc}"]):
        with pytest.raises(SystemExit) as exit_info:
            train.main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and len(err.strip().splitlines()) == 1, err
    with pytest.raises(SystemExit) as exit_info:
        evaluate.main(["fcn8s", "--data", f"voc:{voc}", "--weights-dir", str(tmp_path / "none")])
    assert exit_info.value.code == 2 and "no fcn8s trained with --data" in capsys.readouterr().err


def test_masks_that_are_not_class_indices_are_refused(broken, capsys):
    masks = broken / "SegmentationClass"
    names = VOCFolder(broken, "train").names
    for name in names:  # a binary mask saved as 0 and 255: only background and void
        Image.fromarray(np.where(read_mask(masks / f"{name}.png") > 0, 255, 0).astype(np.uint8), mode="L").save(
            masks / f"{name}.png")
    with pytest.raises(DataFolderError, match="only class 0"):
        VOCFolder(broken, "train").num_classes
    for name in names:  # the palette pitfall saved to disk: brightness instead of classes
        Image.fromarray(np.where(read_mask(masks / f"{name}.png") > 0, 220, 38).astype(np.uint8), mode="L").save(
            masks / f"{name}.png")
    with pytest.raises(DataFolderError, match="colours or brightness"):
        VOCFolder(broken, "train").num_classes
    Image.fromarray(np.zeros((10, 12), dtype=np.uint8), mode="P").save(masks / f"{names[0]}.png")
    with pytest.raises(SystemExit):
        train.main(["fcn8s", "--data", f"voc:{broken}"])
    err = capsys.readouterr().err
    assert "must match its image" in err and len(err.strip().splitlines()) == 1
