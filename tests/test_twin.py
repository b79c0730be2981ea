"""The kernel-free twins: every grid setting pre-rendered, refusals as messages, a budget, nothing when live."""

import json
import re

import matplotlib.pyplot as plt
import pytest

from utils.book_build import BUILD_FLAG
from utils.reader import twin as twins
from utils.reader.widgets import checkbox, dropdown, slider


def draw_line(slope=1, dashed=False, colour="red"):
    if slope == 3:
        raise ValueError("slope must not be 3")
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, slope], "--" if dashed else "-", color=colour)
    return fig


def controls():
    return {"slope": slider(1, 0, 5, "slope"), "dashed": checkbox(False, "dashed"),
            "colour": dropdown(["red", "blue"], "red", "colour")}


def data_of(block: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="twin-data">(.*?)</script>', block).group(1))


def test_every_setting_is_prerendered_and_the_default_shows_first():
    block = twins.twin_html(draw_line, controls(), slope=[0, 2, 3], dashed=[False, True])
    data = data_of(block)
    assert data["values"][0] == [1, 0, 2, 3], "the default comes first"
    assert len(data["frames"]) == 4 * 2 * 1
    assert data["frames"]["3,0,0"] == "Not possible: slope must not be 3"
    assert isinstance(data["frames"]["0,0,0"], int) and 'data-frame="0,0,0"' in block
    first_image = data["images"][data["frames"]["0,0,0"]]
    assert f'src="{first_image}"' in block, "without a script the default figure still shows"
    assert 'type="range"' in block and 'type="checkbox"' in block and "<select" not in block
    assert "http" not in block, "nothing is fetched from anywhere"


def test_identical_frames_are_stored_once():
    data = data_of(twins.twin_html(draw_line, controls(), colour=["red", "red"]))
    assert len(data["images"]) == 1


def test_grids_the_live_control_cannot_take_are_refused():
    with pytest.raises(ValueError, match="slope"):
        twins.twin_html(draw_line, controls(), slope=[0, 9])
    with pytest.raises(ValueError, match="colour"):
        twins.twin_html(draw_line, controls(), colour=["green"])
    with pytest.raises(ValueError, match="width"):
        twins.twin_html(draw_line, controls(), width=[1, 2])


def test_the_page_weight_budget_is_enforced(monkeypatch):
    monkeypatch.setattr(twins, "MAX_BYTES", 10_000)
    with pytest.raises(ValueError, match="fewer values"):
        twins.twin_html(draw_line, controls(), slope=[0, 1, 2, 4, 5])


def test_live_notebooks_get_nothing_and_the_build_gets_html(monkeypatch):
    monkeypatch.delenv(BUILD_FLAG, raising=False)
    assert twins.twin(draw_line, controls(), slope=[0, 2]) is None
    monkeypatch.setenv(BUILD_FLAG, "1")
    assert "course-twin" in twins.twin(draw_line, controls(), slope=[0, 2]).data


def test_frames_are_drawn_at_the_settled_setting_like_the_live_widget():
    def settle(params):
        return {**params, "slope": 0 if params["dashed"] else params["slope"]}

    data = data_of(twins.twin_html(draw_line, controls(), settle, slope=[1, 3], dashed=[False, True]))
    assert data["frames"]["1,0,0"] == "Not possible: slope must not be 3"
    assert isinstance(data["frames"]["1,1,0"], int), "dashed lines settle the slope to 0: drawable"


def test_the_report_reads_size_frames_and_seconds_back_from_a_built_page(tmp_path, capsys):
    block = twins.twin_html(draw_line, controls(), slope=[0, 2])
    (tmp_path / "chapter.html").write_text(f"<html><body>{block}</body></html>")
    [(page, draw, size, frames, seconds)] = twins.report(tmp_path)
    assert (page, draw, frames) == ("chapter.html", "draw_line", 3) and size == len(block.encode()) and seconds >= 0
    assert twins.main([str(tmp_path)]) == 0 and "1 twins" in capsys.readouterr().out


def test_the_report_refuses_a_folder_that_is_not_there(tmp_path, capsys):
    assert twins.main([str(tmp_path / "nowhere")]) == 2
    assert "is not a built book's HTML folder" in capsys.readouterr().err
