"""The demo networks and the zoo that names them.

``ZOO[name]`` says how to build each shipped model and how it is trained; the
command-line tools (``python -m utils.train NAME``), the checkpoints and the
chapters all look models up here, so a model is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..data import NUM_CLASSES
from .backbone import Backbone
from .fcn import FCN, FCN8s, FCN16s, FCN32s
from .patchnet import PatchNet
from .upsampling import Upsample, bilinear_kernel


@dataclass(frozen=True)
class ModelSpec:
    """How to build and train one demo model.

    ``task`` picks the training loss: ``"dense"`` (cross-entropy on every
    pixel of the output) or ``"patch"`` (the centre pixel of each patch, trained
    through the dense form). ``init_from`` names the model whose trained weights
    start this one (the FCN paper's stage-wise training).
    """

    name: str
    build: Callable[[], nn.Module]
    description: str
    chapter: str
    steps: int
    task: str = "dense"
    image_size: int = 64
    batch_size: int = 32
    lr: float = 3e-3
    init_from: str | None = None


#: The FCN family works on 128x128 scenes: at 64x64 a stride-32 network would see a 2x2 score map
#: (chapter 5 measures what each output stride can represent at each size).
FCN_IMAGE_SIZE = 128
_FCN = {"chapter": "05_upsampling_skip_connections", "image_size": FCN_IMAGE_SIZE, "batch_size": 16}

ZOO: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "patchnet", lambda: PatchNet(NUM_CLASSES), "30x30 patch classifier with unpadded convolutions",
            "02_patches_to_fcn", steps=600, task="patch",
        ),
        ModelSpec("fcn32s", lambda: FCN32s(NUM_CLASSES), "FCN-32s: stride-32 scores, one learned x32 upsampling",
                  steps=1500, **_FCN),
        ModelSpec("fcn16s", lambda: FCN16s(NUM_CLASSES), "FCN-16s: adds the pool4 skip, started from fcn32s",
                  steps=1000, init_from="fcn32s", **_FCN),
        ModelSpec("fcn8s", lambda: FCN8s(NUM_CLASSES), "FCN-8s: adds the pool3 skip, started from fcn16s",
                  steps=2000, lr=2e-3, init_from="fcn16s", **_FCN),
        ModelSpec(
            "fcn8s_fixed_bilinear", lambda: FCN8s(NUM_CLASSES, learnable_upsampling=False),
            "FCN-8s whose upsampling stays the fixed bilinear kernel, started from fcn16s",
            steps=2000, lr=2e-3, init_from="fcn16s", **_FCN,
        ),
    )
}

__all__ = ["ZOO", "ModelSpec", "Backbone", "FCN", "FCN32s", "FCN16s", "FCN8s", "PatchNet", "Upsample", "bilinear_kernel"]
