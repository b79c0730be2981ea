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
from .limitations import LIMITATIONS
from .mask_heads import HYPERCOLUMN, LAST_LAYER, MaskHead
from .maskrcnn import course_maskrcnn
from .attention import GlimpseClassifier, PooledClassifier, ResizedClassifier
from .multiscale import DilatedCNN, MultiscaleCNN, OneLevelCNN, SharedCNN
from .patchnet import PatchNet
from .recurrent import RecurrentCNN, UntiedCNN
from .scale_attention import ScaleFusionCNN
from .sds import CFM, SDS
from .trunk import TRUNK_SOURCE, FrozenTrunk
from .upsampling import Upsample, bilinear_kernel


@dataclass(frozen=True)
class ModelSpec:
    """How to build and train one demo model.

    ``task`` picks the training loss: ``"dense"`` (cross-entropy on every
    pixel of the output), ``"patch"`` (the centre pixel of each patch, trained
    through the dense form), ``"recurrent"`` (every unrolled pass),
    ``"recurrent_last"`` (the last pass only), or one of
    the instance tasks ``"sds"``, ``"mask_head"``, ``"maskrcnn"`` (see
    ``utils.zoo.instance_training``). ``init_from`` names the model whose trained
    weights start this one (the FCN paper's stage-wise training). ``trunk``
    names the shipped model whose weights the model reads, frozen, as its
    ``trunk`` submodule: those weights are not saved again with the model, and
    the manifest records which ones it was trained on; ``build`` then takes
    the ``FrozenTrunk`` (``utils.zoo.checkpoints.build`` passes the shipped one).
    ``crowded`` is the share of crowded training scenes (``utils.data.Shapes``);
    ``pool``, when set, is how many training scenes the stream cycles through
    (for the proposal-based models, whose proposals cost more than a step).
    ``scenes`` names the generator the model trains on: ``"shapes"``
    (``utils.data.Shapes``), one of ``utils.data.DISTRIBUTIONS`` (chapter 9's
    rare class or small objects), or ``"cluttered"`` (``utils.data.Cluttered``, chapter
    8's classifiers, task ``"classify"``: cross-entropy on the scene's label);
    ``test_scenes`` the distribution it is scored on (``scenes`` if ``None``).
    ``augment`` passes every training scene through chapter 9's joint
    augmentation (``utils.augment``). The dense tasks ``"dense_weighted"``,
    ``"dense_dice"`` and ``"dense_focal"`` train with chapter 9's losses for a
    rare class (``utils.imbalance``).
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
    trunk: str | None = None
    crowded: float = 0.0
    pool: int | None = None
    scenes: str = "shapes"
    test_scenes: str | None = None
    augment: bool = False


#: The FCN family works on 128x128 scenes: at 64x64 a stride-32 network would see a 2x2 score map
#: (chapter 5 measures what each output stride can represent at each size).
FCN_IMAGE_SIZE = 128
#: Training scenes the proposal-based models cycle through (their proposals are computed once each).
PROPOSAL_POOL = 600
#: Chapter 7's models: one budget, half of their training scenes crowded, the frozen FCN-8s as their trunk.
_INSTANCE = {"chapter": "07_instance_segmentation", "steps": 1000, "image_size": FCN_IMAGE_SIZE, "batch_size": 8,
             "crowded": 0.5, "trunk": TRUNK_SOURCE}
_FCN = {"chapter": "05_upsampling_skip_connections", "image_size": FCN_IMAGE_SIZE, "batch_size": 16}
#: Chapters 3 and 4 compare their models at one budget: 2000 steps of 16 fresh scenes.
_CH3 = {"chapter": "03_multiscale", "steps": 2000, "batch_size": 16}
_CH4 = {"chapter": "04_iterative_refinement", "steps": 2000, "batch_size": 16, "task": "recurrent"}
#: Chapter 8's classifiers: one budget, 64-pixel cluttered scenes, 32-pixel glimpses; every one reads the scene
#: through chapter 3's trained shared CNN (frozen), copied from ``singlescale``.
CLUTTERED_SIZE, GLIMPSE = 64, 32
_CH8 = {"chapter": "08_attention", "steps": 1500, "batch_size": 32, "task": "classify", "scenes": "cluttered",
        "image_size": CLUTTERED_SIZE, "init_from": "singlescale"}
#: Chapter 9's small FCN (chapter 3's dilated CNN and its per-pixel classifier; the chapter measures its window by
#: autograd): one budget per comparison, all six within 15 CPU-minutes. The augmented pair trains longer: augmented
#: scenes are a harder task.
_CH9 = {"chapter": "09_your_own_data", "batch_size": 16}
_RARE = {**_CH9, "steps": 1000, "scenes": "rare_crosses"}
_SMALL = {**_CH9, "steps": 1500, "scenes": "small_objects", "test_scenes": "large_objects"}


def small_fcn() -> nn.Module:
    """Chapter 9's small FCN: the wide single-scale network of chapter 3 (dilated convolutions), fresh."""
    return MultiscaleCNN(NUM_CLASSES, levels=1, features=DilatedCNN())


#: Chapter 8's scale fusions start from chapter 3's trained shared CNN (all three alike) and train 600 steps.
_SCALES = {"chapter": "08_attention", "steps": 600, "batch_size": 16, "init_from": "multiscale"}

ZOO: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "patchnet", lambda: PatchNet(NUM_CLASSES), "30x30 patch classifier with unpadded convolutions",
            "02_patches_to_fcn", steps=600, task="patch",
        ),
        ModelSpec("fcn32s", lambda: FCN32s(NUM_CLASSES), "FCN-32s: stride-32 scores, one learned x32 upsampling",
                  steps=1500, **_FCN),
        ModelSpec("fcn32s_long", lambda: FCN32s(NUM_CLASSES),
                  "FCN-32s trained as long as FCN-8s in all (1500 + 1000 + 2000 steps): the skips' control",
                  steps=4500, **_FCN),
        ModelSpec("fcn16s", lambda: FCN16s(NUM_CLASSES), "FCN-16s: adds the pool4 skip, started from fcn32s",
                  steps=1000, init_from="fcn32s", **_FCN),
        ModelSpec("fcn8s", lambda: FCN8s(NUM_CLASSES), "FCN-8s: adds the pool3 skip, started from fcn16s",
                  steps=2000, lr=2e-3, init_from="fcn16s", **_FCN),
        ModelSpec(
            "fcn8s_fixed_bilinear", lambda: FCN8s(NUM_CLASSES, learnable_upsampling=False),
            "FCN-8s whose upsampling stays the fixed bilinear kernel, started from fcn16s",
            steps=2000, lr=2e-3, init_from="fcn16s", **_FCN,
        ),
        ModelSpec("singlescale", lambda: MultiscaleCNN(NUM_CLASSES, levels=1),
                  "small CNN (14-pixel receptive field) at full resolution, per-pixel classifier", **_CH3),
        ModelSpec("multiscale", lambda: MultiscaleCNN(NUM_CLASSES, levels=3),
                  "the same CNN, one set of weights, on a 3-level Gaussian pyramid, per-pixel classifier", **_CH3),
        ModelSpec("half_only", lambda: OneLevelCNN(NUM_CLASSES, level=1),
                  "control: the same CNN and classifier on the 1/2 pyramid level alone, upsampled", **_CH3),
        ModelSpec("quarter_only", lambda: OneLevelCNN(NUM_CLASSES, level=2),
                  "control: the same CNN and classifier on the 1/4 pyramid level alone, upsampled", **_CH3),
        ModelSpec("wide_singlescale", lambda: MultiscaleCNN(NUM_CLASSES, levels=1, features=DilatedCNN()),
                  "control: one full-resolution CNN with dilated convolutions, the pyramid's window and weights",
                  **_CH3),
        ModelSpec("multiscale_dropout", lambda: MultiscaleCNN(NUM_CLASSES, levels=3, level_dropout=0.3),
                  "the pyramid trained with each level switched off at random (30%): the level toggles' model",
                  **_CH3),
        ModelSpec("recurrent", lambda: RecurrentCNN(NUM_CLASSES, instances=3),
                  "the single-scale CNN on the halved image and its own previous labels, 3 passes, a loss on each",
                  **_CH4),
        ModelSpec("recurrent_one_pass", lambda: RecurrentCNN(NUM_CLASSES, instances=1),
                  "control: the recurrent network's f trained for one pass only", **_CH4),
        ModelSpec("recurrent_untied", lambda: UntiedCNN(NUM_CLASSES, instances=3),
                  "control: three different networks, one per pass, unrolled like the recurrent one", **_CH4),
        ModelSpec("recurrent_last_loss", lambda: RecurrentCNN(NUM_CLASSES, instances=3),
                  "ablation: the recurrent network with a loss on its last pass only",
                  **{**_CH4, "task": "recurrent_last"}),
        ModelSpec("recurrent_detached", lambda: RecurrentCNN(NUM_CLASSES, instances=3, detach_labels=True),
                  "ablation: the recurrent network, no gradient through the labels between passes", **_CH4),
        ModelSpec("avgpool", lambda: PooledClassifier("average"),
                  "chapter 3's frozen CNN and a trained head on the 64-pixel scene, global average pooling, linear classifier", **_CH8),
        ModelSpec("maxpool", lambda: PooledClassifier("max"),
                  "the same CNN and classifier, global max pooling", **_CH8),
        ModelSpec("attention", lambda: PooledClassifier("attention"),
                  "the same CNN and classifier, soft attention pooling (a score per location, a softmax)", **_CH8),
        ModelSpec("downsampled", lambda: ResizedClassifier(GLIMPSE),
                  "the same CNN and classifier on the whole scene resized to 32 pixels", **_CH8),
        ModelSpec("glimpse", lambda: GlimpseClassifier(GLIMPSE),
                  "spatial transformer: a locator on the 32-pixel scene, the classifier on a 32-pixel glimpse", **_CH8),
        ModelSpec("glimpse_zero_padding", lambda: GlimpseClassifier(GLIMPSE, padding_mode="zeros", normalise=True),
                  "pitfall: the spatial transformer on standardised scenes with zero padding", **_CH8),
        ModelSpec("scale_average", lambda: ScaleFusionCNN(NUM_CLASSES, "average"),
                  "chapter 3's shared CNN scoring each pyramid level, the scores averaged over scales", **_SCALES),
        ModelSpec("scale_max", lambda: ScaleFusionCNN(NUM_CLASSES, "max"),
                  "chapter 3's shared CNN scoring each pyramid level, the maximum score over scales", **_SCALES),
        ModelSpec("scale_attention", lambda: ScaleFusionCNN(NUM_CLASSES, "attention"),
                  "chapter 3's shared CNN scoring each pyramid level, fused by per-pixel softmax weights over scales",
                  **_SCALES),
        ModelSpec("small_plain", small_fcn, "chapter 9's small FCN trained on small objects, no augmentation",
                  **_SMALL),
        ModelSpec("small_augmented", small_fcn,
                  "chapter 9's small FCN trained on small objects through joint flips, rotations and zoom",
                  augment=True, **_SMALL),
        ModelSpec("rare_ce", small_fcn, "chapter 9's small FCN where crosses are rare, cross-entropy", **_RARE),
        ModelSpec("rare_weighted", small_fcn, "the same, cross-entropy with median-frequency class weights",
                  task="dense_weighted", **_RARE),
        ModelSpec("rare_dice", small_fcn, "the same, soft Dice loss averaged over classes", task="dense_dice",
                  **_RARE),
        ModelSpec("rare_focal", small_fcn, "the same, focal loss (gamma = 2)", task="dense_focal", **_RARE),
        ModelSpec("sds", lambda trunk=None: SDS(trunk),
                  "SDS: box, region and both classifiers over proposals' fc7 features (64-pixel crops) of the frozen fcn8s",
                  task="sds", lr=1e-3, **_INSTANCE, pool=PROPOSAL_POOL),
        ModelSpec("cfm", lambda trunk=None: CFM(trunk),
                  "SDS's classifiers on features pooled inside each proposal from one full-image fc7 of the frozen fcn8s",
                  task="sds", lr=1e-3, **_INSTANCE, pool=PROPOSAL_POOL),
        ModelSpec("last_layer", lambda trunk=None: MaskHead(LAST_LAYER, trunk),
                  "mask head on fc7 alone and the proposal, in each box, of the frozen fcn8s",
                  task="mask_head", lr=2e-3, **_INSTANCE, pool=PROPOSAL_POOL),
        ModelSpec("hypercolumn", lambda trunk=None: MaskHead(HYPERCOLUMN, trunk),
                  "mask head on the hypercolumn pool2+pool3+pool4+fc7 and the proposal, in each box, of the frozen fcn8s",
                  task="mask_head", lr=2e-3, **_INSTANCE, pool=PROPOSAL_POOL),
        ModelSpec("maskrcnn", lambda trunk=None: course_maskrcnn(trunk),
                  "torchvision Mask R-CNN on the frozen fcn8s's fused pool3-5 features",
                  task="maskrcnn", lr=1e-3, **_INSTANCE),
    )
}

__all__ = ["ZOO", "ModelSpec", "Backbone", "FCN", "FCN32s", "FCN16s", "FCN8s", "MultiscaleCNN", "OneLevelCNN",
           "DilatedCNN", "RecurrentCNN", "UntiedCNN", "SharedCNN", "SDS", "CFM", "MaskHead", "FrozenTrunk",
           "course_maskrcnn", "PatchNet", "Upsample", "bilinear_kernel", "LIMITATIONS", "PooledClassifier",
           "GlimpseClassifier", "ResizedClassifier", "ScaleFusionCNN"]
