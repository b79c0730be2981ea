"""Every chapter starts with the same Colab set-up cell, fetching the repository named in ``_config.yml``."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "lectures").glob("*.ipynb"))


def first_cell(path: Path) -> dict:
    return json.loads(path.read_text())["cells"][0]


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 2


def test_all_notebooks_share_one_setup_cell():
    sources = {p.name: "".join(first_cell(p)["source"]) for p in NOTEBOOKS}
    assert len(set(sources.values())) == 1, f"set-up cells differ: {sorted(sources)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_is_hidden_and_code(path):
    cell = first_cell(path)
    assert cell["cell_type"] == "code"
    assert "remove-cell" in cell["metadata"].get("tags", [])


def test_setup_cell_url_is_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    source = "".join(first_cell(NOTEBOOKS[0])["source"])
    found = re.findall(r"https?://[^\s\"']+", source)
    assert found == [url], f"set-up cell names {found}, _config.yml names {url}"


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    import os
    import subprocess
    import sys

    def refuse(*args, **kwargs):
        raise AssertionError("the set-up cell ran a command outside Colab")

    monkeypatch.setattr(subprocess, "run", refuse)
    path, cwd = list(sys.path), os.getcwd()
    exec("".join(first_cell(NOTEBOOKS[0])["source"]), {})
    assert sys.path == path and os.getcwd() == cwd


def test_setup_cell_on_colab_clones_installs_and_imports(monkeypatch, tmp_path):
    """Simulate Colab: the cell must clone the configured URL and put the clone on sys.path."""
    import importlib.util
    import os
    import subprocess
    import sys
    import types

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    calls = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("widgets"))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "safetensors" else True)
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    monkeypatch.setattr(os, "chdir", lambda path: calls.append(("chdir", path)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec("".join(first_cell(NOTEBOOKS[0])["source"]), {})
    clone = next(c for c in calls if isinstance(c, list) and "clone" in c)
    assert url in clone
    install = next(c for c in calls if isinstance(c, list) and "install" in c)
    assert install[-1] == "safetensors", "only what Colab lacks is installed"
    assert not any("myst" in part for c in calls if isinstance(c, list) for part in c), "no book tool chain on Colab"
    assert sys.path[0] == clone[-1] and "widgets" in calls


@pytest.mark.parametrize("stderr, case", [
    ("fatal: unable to access 'https://github.com/x/': Could not resolve host: github.com", "cannot reach GitHub"),
    ("fatal: could not read Username for 'https://github.com': No such device or address", "does not exist"),
    ("fatal: destination path exists and is not an empty directory", "git could not download"),
])
def test_a_failed_set_up_says_which_case_in_one_message(monkeypatch, stderr, case):
    """On Colab, a clone that fails stops the chapter with one line naming the case and git's own words."""
    import os
    import subprocess
    import sys
    import types

    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 128, "", stderr))
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    with pytest.raises(Exception) as raised:
        exec("".join(first_cell(NOTEBOOKS[0])["source"]), {})
    assert not isinstance(raised.value, SystemExit), "SystemExit makes IPython add its exit warning"
    [shown] = raised.value._render_traceback_()  # what IPython prints instead of a traceback
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert case in shown and url in shown and stderr.splitlines()[-1] in shown and "Nothing below will run" in shown
