"""The course's Python package: one module per idea, each naming the chapter that teaches it.

- ``utils.data``: the synthetic ``Shapes`` scenes (chapter 1, used everywhere).
- ``utils.metrics``: pixel accuracy, confusion matrix, IoU, mask AP, edge bands (chapter 1).
- ``utils.viz``: colour-coded label maps, overlays and grids (every chapter).
- ``utils.classical``: the coins photograph segmented without learning (chapter 1).
- ``utils.tasks``: the three tasks on one scene, degraded predictions (chapter 1).
- ``utils.patches``: sliding windows, convolutionalisation, receptive fields, work counts (chapter 2).
- ``utils.multiscale`` / ``utils.bottom_up``: the pyramid's measurements; superpixels and the tree (chapter 3).
- ``utils.refinement``: passes, repairs and damaged starts of the recurrent network (chapter 4).
- ``utils.fcn_viz``: the FCN family's figures (chapter 5).
- ``utils.arithmetic`` / ``utils.arithmetic_viz``: convolution arithmetic and its pictures (chapter 6).
- ``utils.proposals``, ``utils.instances``, ``utils.instance_viz``, ``utils.instance_training``: chapter 7's
  proposals, instance methods, figures and losses.
- ``utils.models``: the demo networks and the ``ZOO`` that names them (chapters 2 to 7).
- ``utils.checkpoints``: verified weights and their manifest; ``utils.model_card`` its tables.
- ``utils.train`` / ``utils.evaluate`` / ``utils.bench`` / ``utils.zoo_archive``: the command-line tools.
- ``utils.bootstrap`` (noise scales), ``utils.timing`` (load-robust timing), ``utils.papers`` (published
  numbers and verdicts), ``utils.glue`` (numbers for the prose): shared by the chapters.
- ``utils.widgets`` / ``utils.twin``: the live widgets and their kernel-free twins in the book.
- ``utils.colab``: the Colab copies of the chapters.
- ``utils.exercises``: the exercises' checkers.

Every chapter starts with ``device = utils.setup()``.
"""

from __future__ import annotations

import random

import matplotlib as mpl
import numpy as np
import torch

#: The course's figure style: applied locally, no remote style sheets.
STYLE: dict = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.figsize": (7.0, 3.5),
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "legend.fontsize": 8,
    "image.interpolation": "nearest",
}


def setup(seed: int = 0, verbose: bool = True) -> torch.device:
    """Seed Python, NumPy and torch; apply the course's figure style; return (and report) the device.

    The chapters run on the CPU unless a GPU is present; their checked
    numbers come from the CPU path.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    mpl.rcParams.update(STYLE)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if verbose:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} CPU threads"
        print(f"torch {torch.__version__} on {device.type} ({name}); seed {seed}")
    return device
