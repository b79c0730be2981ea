"""The course's Python package, in layers; imports only point down (``tests/test_layers.py`` checks it).

1. The science, ``utils/*.py``: no model, no weights. ``data`` (the ``Shapes``
   scenes, chapter 1 on), ``metrics`` (accuracy, IoU, mask AP: chapter 1),
   ``bootstrap`` (noise scales: chapter 3 on), ``viz`` (pictures), ``timing``
   (load-robust timing), ``classical`` (the coins photograph: chapter 1),
   ``arithmetic`` (output sizes, transposed convolution: chapter 6),
   ``bottom_up`` (superpixels, the tree: chapter 3), ``receptive_field``
   (measured by autograd: chapters 3 and 4), ``proposals`` (chapter 7),
   ``verdicts`` (the one rule for a verdict on a paper's claim: chapter 2 on),
   ``book_build`` (what differs while the book is built).
2. ``utils.models``: the demo networks and the ``ZOO`` that names them (chapters 2 to 8).
3. ``utils.zoo``: the shipped models in use: ``checkpoints``, ``inference``,
   ``scoring``, ``losses``, ``training``, chapter 7's ``instances`` and
   ``instance_training``, chapter 8's ``classification``, ``seeds`` (the
   compared models retrained with other seeds), ``model_card``, ``bench``, ``archive``.
4. ``utils.chapters``: one module per lecture, named after it
   (``lectures/03_multiscale.ipynb`` <-> ``utils/chapters/multiscale.py``);
   a chapter imports only earlier chapters.
5. ``utils.reader``: what the reader meets around the figures: ``glue``,
   ``widgets`` and their ``twin``, ``papers``, ``comparisons`` (a difference
   with both its noises), ``exercises``, ``colab``, and ``book_cache`` (nbval's
   executions of the chapters, handed to the book build).

On top, the two commands, which nothing imports: ``python -m utils.train``
and ``python -m utils.evaluate`` (parsing and printing only). Every chapter
starts with ``device = utils.setup()``.
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
