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


def test_setup_cell_on_colab_explains_a_failed_clone(monkeypatch):
    """No network: one clear message naming the repository and what to do, not a CalledProcessError."""
    import os
    import subprocess
    import sys
    import types

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    colab = types.ModuleType("google.colab")
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    failed = subprocess.CompletedProcess([], 128, stderr="fatal: unable to access: Could not resolve host\n")
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: failed)
    monkeypatch.setattr(os.path, "isdir", lambda path: False)
    with pytest.raises(SystemExit) as exit_info:
        exec("".join(first_cell(NOTEBOOKS[0])["source"]), {})
    message = str(exit_info.value)
    assert url in message and "Could not resolve host" in message and "internet" in message
