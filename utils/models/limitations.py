"""What each shipped model cannot do: the model card's "limitations" line, one per ``ZOO`` entry.

Kept beside the zoo, not in the manifest: a limitation belongs to the design,
not to one training run. The chapters that compare the models (3, 4, 5,
7, 8 and 9) lean on these limits; the model card lists them. ``tests/test_models.py`` checks every zoo model has one.
"""

from .patchnet import PATCH_SIZE

LIMITATIONS: dict[str, str] = {
    "patchnet": (
        f"Sees one {PATCH_SIZE}x{PATCH_SIZE} patch per pixel and nothing beyond it; unpadded, so its dense output is smaller than "
        "the image."
    ),
    "fcn32s": "One stride-32 score map upsampled 32x: edges land coarsely and the smallest objects blur away.",
    "fcn32s_long": "A control, not a better model: fcn32s's stride-32 limits, trained longer.",
    "fcn16s": "Scores at stride 16 at best; its budget includes the fcn32s steps it started from.",
    "fcn8s": "Stride-8 scores round corners and thin arms; trained from scratch on ordinary scenes only.",
    "fcn8s_fixed_bilinear": "A control: its upsampling cannot learn, to isolate what learned kernels add.",
    "singlescale": "A deliberately small receptive field, smaller than most objects: it cannot see a whole shape.",
    "multiscale": "Its coarse levels are blurred and upsampled, so their evidence is coarse at object edges.",
    "half_only": "A control: sees the 1/2 level alone, so edges finer than two pixels are lost.",
    "quarter_only": "A control: sees the 1/4 level alone, so edges finer than four pixels are lost.",
    "wide_singlescale": "A control: its dilated convolutions sample the image with gaps (gridding).",
    "multiscale_dropout": "Built for the level toggles, not for accuracy: with every level on it trails multiscale.",
    "recurrent": "Runs on the halved image; passes beyond the third were never trained.",
    "recurrent_one_pass": "A control: trained for one pass, so later passes read labels it never learned to read.",
    "recurrent_untied": "A control: three times recurrent's parameters; cannot run more passes than it has networks.",
    "recurrent_last_loss": "An ablation: its earlier passes have no loss, so their labels need not be good.",
    "recurrent_detached": "An ablation: no gradient flows through the labels between passes.",
    "avgpool": "Classifies one target among clutter, nothing more; every grid cell weighs alike, fragments included.",
    "maxpool": "Classifies only; each channel keeps one location, so one misleading fragment can take a channel.",
    "attention": "Classifies only; its attention map marks the target's telling parts, not its outline (a weak mask).",
    "downsampled": "A control: sees the scene at half resolution, so a small target is a few pixels.",
    "glimpse": "One glimpse, square, of a learned size: a target the locator misses is never seen at full resolution.",
    "glimpse_zero_padding": "A pitfall on purpose: zero padding after normalising shows a frame no scene has.",
    "scale_average": "A control: every scale weighs the same at every pixel, whatever the object's size.",
    "scale_max": "A control: the most confident scale wins each pixel, right or wrong.",
    "scale_attention": "No per-scale supervision (the paper's extra loss), and three scales only.",
    "small_plain": "Trained on small objects only, on purpose: it has never seen a large one.",
    "small_augmented": "Trained on small objects only; zooming in is all it knows of large ones.",
    "rare_ce": "Trained where crosses are 5% of objects, with plain cross-entropy: the rare class is barely learned.",
    "rare_weighted": "Median-frequency weights from one training distribution; other class mixes need new weights.",
    "rare_dice": "Soft Dice over one batch: a class absent from a batch still counts, as a perfect score.",
    "rare_focal": "One focusing parameter (gamma = 2), the paper's default, not tuned for our scenes.",
    "sds": (
        "Cannot return an object no proposal traces; frozen fcn8s features; trained on a fixed pool of scenes, "
        "cycled."
    ),
    "cfm": (
        "Pools from the whole scene's stride-32 fc7 map: coarse features for small proposals; sds's proposal "
        "limits."
    ),
    "last_layer": "Stride-32 features only; refines sds's detections, so it inherits their classes and misses.",
    "hypercolumn": "Refines sds's detections, so it inherits their classes, scores and misses.",
    "maskrcnn": (
        "Its trunk is frozen (only the proposal network and heads learn); anchors and sizes cut for 128x128 "
        "scenes."
    ),
}
