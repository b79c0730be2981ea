"""The benchmark, the model card tables and the edge-band evaluation."""

import matplotlib.pyplot as plt
import pytest
import torch

from utils.data import Shapes
from utils.metrics import boundary_band
from utils.zoo import bench, checkpoints, model_card, scoring
from utils.zoo.inference import predict
from utils.zoo.scoring import band_confusions, band_confusions_of, summarise


def test_boundary_band_widths():
    target = torch.zeros(9, 9, dtype=torch.long)
    target[:, 5:] = 1
    assert boundary_band(target, 0)[0].nonzero().flatten().tolist() == [4, 5]
    assert boundary_band(target, 2)[0].nonzero().flatten().tolist() == [2, 3, 4, 5, 6, 7]
    assert not boundary_band(torch.zeros(4, 4, dtype=torch.long), 3).any()


def test_band_confusions_cover_the_band_only():
    model = checkpoints.load("fcn32s")
    totals = band_confusions(model, "val", 0, 4, 128, widths=(1, 4))
    assert totals["all"].sum() == 4 * 128 * 128
    assert 0 < totals[1].sum() < totals[4].sum() < totals["all"].sum()
    assert summarise(totals["all"])["miou"] > 0


def test_band_confusions_of_labels_equal_the_models_own():
    model = checkpoints.load("fcn32s")
    images, semantic = Shapes("val", 4, image_size=128).batch(range(4))
    ours = band_confusions_of(predict(model, images), semantic, (1, 4))
    theirs = band_confusions(model, "val", 0, 4, 128, widths=(1, 4))
    assert all(torch.equal(ours[k], theirs[k]) for k in ("all", 1, 4))


def test_per_scene_band_confusions_sum_to_the_data_sets():
    from utils.chapters.upsampling_skip_connections import band_scene_confusions

    images, semantic = Shapes("val", 3, image_size=128).batch(range(3))
    labels = predict(checkpoints.load("fcn32s"), images)
    per_scene, pooled = band_scene_confusions(labels, semantic, (2,)), band_confusions_of(labels, semantic, (2,))
    assert per_scene[2].shape == (3, *pooled[2].shape)
    assert all(torch.equal(per_scene[k].sum(0), pooled[k]) for k in ("all", 2))
    assert torch.equal(per_scene[2][1], band_confusions_of(labels[1:2], semantic[1:2], (2,))[2])


def test_scoring_never_moves_the_callers_model(monkeypatch):
    """A model being trained on a GPU must stay there while its own evaluation runs (the scenes move instead)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the evaluation moved the caller's model")

    for name, expected in (("recurrent", "miou_by_iteration"), ("last_layer", "ap50")):
        model = checkpoints.load(name)
        for method in ("cpu", "cuda", "to"):
            monkeypatch.setattr(model, method, refuse)
        assert expected in scoring.zoo_metrics(name, model, "val", 0, 2)


def test_bench_pieces_report_positive_rates():
    rates = bench.data_rates(64, scenes=20)
    assert set(rates) == {"images + semantic maps", "full targets (masks, boxes)"}
    assert all(r > 0 for r in rates.values())
    assert bench.training_rate("patchnet", torch.device("cpu"), steps=1) > 0
    assert bench.pipeline_rate(workers=0, scenes=2) > 0
    assert bench.evaluation_seconds("fcn8s", scenes=4) > 0


def test_model_card_lists_every_shipped_model_in_chapter_order():
    described, trained = model_card.describe_models(), model_card.training_table()
    scores = model_card.metrics_table() + model_card.instance_table() + model_card.classifier_table()
    names = list(checkpoints.read_manifest())
    for name in names:
        assert f"<code>{name}</code>" in described and f"<code>{name}</code>" in trained
        assert scores.count(f"<code>{name}</code>") == 1
    rows = [described.index(f"<code>{name}</code>") for name in ("patchnet", "singlescale", "recurrent", "fcn32s", "fcn8s",
                                                                  "maskrcnn", "attention", "scale_attention")]
    assert rows == sorted(rows)


def test_model_card_says_what_each_model_cannot_do_and_draws_the_kept_curves():
    limits = model_card.limitations_table()
    manifest = checkpoints.read_manifest()
    assert all(limits.count(f"<code>{name}</code>") == 1 for name in manifest)
    figure = model_card.learning_curves()
    drawn = [name for name, entry in manifest.items()
             if entry.get("loss_curve") or entry.get("retrained_curve") or model_card.seed_curves(name)]
    assert figure.startswith("<img") == bool(drawn)
    for name in set(manifest) - set(drawn):
        assert name in figure, "a model without a curve is named, not dropped silently"


def test_learning_curves_draw_the_shipped_run_solid_other_seeds_dashed_and_name_a_model_with_neither(monkeypatch):
    fig, ax = plt.subplots()
    model_card._draw_curves(ax, {"sds": {0: [[10, 1.0], [20, 0.5]]}, "fcn8s": {1: [[10, 2.0]], 2: [[10, 1.5]]},
                                 "patchnet": {model_card.RETRAINED: [[10, 1.0]]}})
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--", "--", "--"]
    assert ax.get_legend_handles_labels()[1] == ["sds", "fcn8s: seeds 1, 2", "patchnet: a retraining, seed 0"]
    assert ax.lines[1].get_color() == ax.lines[2].get_color(), "one model's seeds share a colour"
    plt.close(fig)
    entries = [("sds", {"chapter": "07_instance_segmentation", "loss_curve": [[10, 1.0]]}),
               ("fcn8s", {"chapter": "05_upsampling_skip_connections"}), ("patchnet", {"chapter": "02_patches_to_fcn"})]
    monkeypatch.setattr(model_card, "shipped", lambda: entries)
    monkeypatch.setattr(model_card, "seed_curves", lambda name: {1: [[10, 2.0]]} if name == "fcn8s" else {})
    figure = model_card.learning_curves()
    note = figure.partition("<p>")[2]
    assert figure.startswith("<img") and "patchnet" in note and "fcn8s" not in note



def test_model_card_seed_table_spans_every_recorded_seed(monkeypatch):
    records = {"recurrent": {str(seed): {"metrics": {"miou": miou, "split": "test", "seed": 0, "length": 300}}
                             for seed, miou in ((0, 0.60), (1, 0.62), (2, 0.66))},
               "multiscale": {"1": {"metrics": {"miou": 0.5, "split": "test", "seed": 0, "length": 200}}}}
    monkeypatch.setattr(model_card, "read_records", lambda: records)
    table = model_card.seeds_table()
    assert "0.600 / 0.627 / 0.660" in table and "<td>0.060</td>" in table
    assert "<td>-</td><td>0.500</td><td>-</td>" in table, "a seed not yet trained shows as missing, not as zero"

def test_trained_on_reads_the_manifest_device_as_prose():
    assert model_card.trained_on("cpu: x86_64, 2 threads") == "2 CPU threads"
    assert model_card.trained_on("cpu: arm64, 1 threads") == "1 CPU thread"
    assert model_card.trained_on("cuda: NVIDIA H100 80GB HBM3") == "an NVIDIA H100 80GB HBM3 GPU"
    for entry in checkpoints.read_manifest().values():
        assert model_card.trained_on(entry["device"])
    with pytest.raises(ValueError, match="device"):
        model_card.trained_on("tpu: v5")


def test_cumulative_steps_add_the_stages_a_model_started_from():
    manifest = checkpoints.read_manifest()
    assert model_card.cumulative_steps("fcn8s", manifest) == sum(manifest[n]["steps"] for n in ("fcn32s", "fcn16s", "fcn8s"))
    assert model_card.cumulative_steps("fcn32s_long", manifest) == model_card.cumulative_steps("fcn8s", manifest)
