"""A compared pair: its verdict reads the scene interval and every seed; its glue keys, table and figure."""

import matplotlib

matplotlib.use("Agg")

from utils.reader import comparisons  # noqa: E402


def test_the_seeds_can_overturn_an_interval_that_excludes_zero(monkeypatch):
    glued = {}
    monkeypatch.setattr(comparisons, "glue", lambda key, value: glued.__setitem__(key, value))
    monkeypatch.setattr(comparisons, "glue_interval", lambda key, interval: interval)
    agreed = comparisons.glue_comparison("gain", (0.05, 0.02, 0.08), (0.05, 0.03, 0.04))
    split = comparisons.glue_comparison("split", (0.05, 0.02, 0.08), (0.05, -0.02, 0.04))
    assert agreed.verdict == "direction reproduced" and split.verdict == "inside the noise"
    assert glued["gain_seeds"] == "lowest +0.030, mean +0.040, highest +0.050 over 3 seeds" and glued["gain_seed_count"] == 3
    lone = comparisons.glue_comparison("lone", (0.05, 0.02, 0.08))
    assert lone.seeds == (0.05,) and glued["lone_seeds"] == "one seed"
    assert split.phrase() == ("+0.050 mIoU (95% interval +0.020 to +0.080 over test scenes, outside the noise of the "
                              "scenes; over 3 training seeds -0.020 to +0.050)")
    assert lone.phrase() == "+0.050 mIoU (95% interval +0.020 to +0.080, outside the noise)"


def test_table_and_figure_show_every_row_and_its_verdict(capsys):
    rows = {"a - b": comparisons.Comparison((0.05, 0.02, 0.08), (0.05, 0.03, 0.04)),
            "c - d": comparisons.Comparison((0.0, -0.004, 0.006), (0.0, 0.003, -0.002), "equal")}
    comparisons.print_comparisons(rows)
    printed = capsys.readouterr().out
    assert printed.splitlines()[1].endswith("+0.030 to +0.050 (3)") and "one seed" not in printed
    fig = comparisons.draw_comparisons(rows)
    labels = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert labels == ["c - d", "a - b"]
    assert [text.get_text() for text in fig.axes[0].texts] == ["reproduced", "direction reproduced"]
