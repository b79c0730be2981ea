"""The command-line tools answer bad input with one clear line and a non-zero exit, and never touch shipped weights by accident."""

import argparse
import shutil

import pytest
import torch

from utils import evaluate, train
from utils.zoo import checkpoints


def refused(main, argv, capsys) -> str:
    """Run a tool's ``main`` expecting a refusal: exit status 2 and one message on stderr, no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err and err.strip()
    return err


@pytest.mark.parametrize("argv, message", [
    (["fcn32s", "--steps", "0"], "--steps must be a positive"),
    (["fcn4s"], "unknown model"),
    ([], "name at least one model"),
])
def test_train_refuses_impossible_settings(argv, message, capsys):
    assert message in refused(train.main, argv, capsys)


@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for CUDA on a machine without it")
def test_train_refuses_cuda_without_a_gpu(capsys):
    assert "no CUDA GPU" in refused(train.main, ["fcn32s", "--device", "cuda"], capsys)


def test_evaluate_refuses_bad_lengths_and_checks_every_name_first(capsys, monkeypatch):
    monkeypatch.setattr(evaluate, "zoo_metrics", lambda *a, **k: pytest.fail("evaluated before refusing"))
    assert "--length must be a positive" in refused(evaluate.main, ["fcn8s", "--length", "-5"], capsys)
    assert "unknown model(s) foo" in refused(evaluate.main, ["fcn8s", "foo"], capsys)


def test_evaluate_help_lists_the_models(capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("fcn8s", "multiscale", "recurrent", "connected_components", "maskrcnn"))


def test_a_corrupt_checkpoint_is_refused_with_both_fixes(tmp_path, capsys):
    shutil.copy(checkpoints.MANIFEST, tmp_path / "manifest.json")
    (tmp_path / "fcn32s.safetensors").write_bytes(b"not weights")
    err = refused(evaluate.main, ["fcn32s", "--weights-dir", str(tmp_path)], capsys)
    assert "git checkout utils/weights" in err and "python -m utils.train fcn32s" in err


def test_experiments_do_not_replace_the_shipped_weights():
    def args(**kw):
        return argparse.Namespace(**{"steps": None, "seed": 0, "weights_dir": None, "replace_shipped": False,
                                     "data": None, **kw})

    assert train.output_dir(args()) == checkpoints.WEIGHTS_DIR
    assert train.output_dir(args(steps=20)) == train.EXPERIMENTS_DIR
    assert train.output_dir(args(seed=3)) == train.EXPERIMENTS_DIR
    assert train.output_dir(args(steps=20, replace_shipped=True)) == checkpoints.WEIGHTS_DIR
    assert train.output_dir(args(steps=20, weights_dir="elsewhere")) == "elsewhere"
    assert train.output_dir(args(data="voc:somewhere")) == train.EXPERIMENTS_DIR, "your data never replaces ours"
    assert train.output_dir(args(data="voc:somewhere", replace_shipped=True)) == train.EXPERIMENTS_DIR


def test_evaluate_prints_a_classifier_with_where_it_looked(capsys):
    evaluate.main(["attention", "glimpse", "--length", "20"])
    out = capsys.readouterr().out
    assert "cluttered scenes" in out and "mass on target" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["glimpse"][2] == "-" and rows["attention"][4] == "-"
