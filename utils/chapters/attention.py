"""Chapter 8's measurements and pictures: where each classifier looked, its glimpses, the scale weights, the widget.

Used by ``lectures/08_attention``; the classifiers are in
``utils/models/attention.py``, the scale fusions in
``utils/models/scale_attention.py``, their scoring in ``utils/zoo/classification.py``.
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from .. import viz
from ..bootstrap import bootstrap
from ..data import CLASS_NAMES, Cluttered, Shapes
from ..models import CLUTTERED_SIZE
from ..zoo import checkpoints
from ..zoo.classification import scene_results

#: Test scenes the chapter scores every classifier on (as many as their training seeds' records), and the
#: ones the widget can show.
TEST_SCENES, WIDGET_SCENES = 1000, 40
#: The classifiers a reader can pick, as the chapter names them.
CLASSIFIERS = {"average pooling": "avgpool", "max pooling": "maxpool", "soft attention": "attention",
               "spatial transformer": "glimpse"}
#: The glimpse comparison: the same classifier on three views of the scene.
VIEWS = {"whole scene resized to 32 px": "downsampled", "32-px glimpse (transformer)": "glimpse",
         "whole scene at 64 px": "avgpool"}
#: Chapter 3's pyramid fused three ways (chapter 8's attention to scale).
FUSIONS = {"average": "scale_average", "max": "scale_max", "attention": "scale_attention"}
SCALE_NAMES = ("1", "1/2", "1/4")
#: Chapter 3's test scenes the scale fusions are scored on (as many as their training seeds' records).
SCALE_SCENES = 1000


def results(name: str, seed: int = 0, scenes: int = TEST_SCENES) -> dict[str, torch.Tensor]:
    """``scene_results`` of shipped classifier ``name`` on ``scenes`` test scenes drawn with ``seed`` (cached)."""
    return _results(name, seed, scenes)


@lru_cache(maxsize=None)
def _results(name: str, seed: int, scenes: int) -> dict[str, torch.Tensor]:
    """``results``, cached under one key however it is called (``lru_cache`` keys on the arguments as passed)."""
    return scene_results(checkpoints.load_shared(name), "test", seed, scenes, CLUTTERED_SIZE)


def accuracy_interval(name: str, baseline: str | None = None, seed: int = 0) -> tuple[float, float, float]:
    """(value, low, high): the accuracy of ``name`` (minus ``baseline``'s, paired) with its bootstrap interval over scenes."""
    own = results(name, seed)["correct"].float()
    other = None if baseline is None else results(baseline, seed)["correct"].float()
    return bootstrap(lambda rows: own[rows].mean().item() - (0.0 if other is None else other[rows].mean().item()),
                     len(own))


def mean_interval_of(values: torch.Tensor) -> tuple[float, float, float]:
    """(mean, low, high) of one per-scene value (N,), bootstrapped over the scenes."""
    values = values.float()
    return bootstrap(lambda rows: values[rows].mean().item(), len(values))


def mean_interval(name: str, key: str) -> tuple[float, float, float]:
    """(mean, low, high) of per-scene measure ``key`` (e.g. ``"mass"``) of classifier ``name``, bootstrapped over scenes."""
    return mean_interval_of(results(name)[key])


def outlined(image: torch.Tensor, mask: torch.Tensor, colour=(1.0, 1.0, 1.0)) -> np.ndarray:
    """(3, H, W) scene with the (H, W) target mask's outline drawn in ``colour``: an (H, W, 3) picture."""
    return viz.draw_outlines(viz.image_to_rgb(image), [mask], [colour])


def draw_scenes(indices=range(8)) -> Figure:
    """Test scenes with the target outlined and its class as title: the task."""
    data = Cluttered("test", max(indices) + 1, image_size=CLUTTERED_SIZE)
    pictures, titles = [], []
    for i in indices:
        image, target = data[i]
        pictures.append(outlined(image, target["mask"]))
        titles.append(f"{i}: {CLASS_NAMES[target['label']]}")
    return viz.grid([pictures], titles=titles, legend=False, cell=1.6)


def weights_picture(image: torch.Tensor, weights: torch.Tensor) -> np.ndarray:
    """The scene dimmed where a (h, w) weight map is low: (H, W, 3), weights scaled to their maximum."""
    up = F.interpolate(weights[None, None], size=image.shape[-2:], mode="nearest")[0, 0]
    strength = (up / up.max()).numpy()[..., None]
    return viz.image_to_rgb(image) * (0.15 + 0.85 * strength)


def draw_where(indices=(0, 1, 2, 3)) -> Figure:
    """Per scene: the target outlined, where max pooling took its channels, where soft attention looked."""
    data = Cluttered("test", max(indices) + 1, image_size=CLUTTERED_SIZE)
    models = {label: checkpoints.load_shared(CLASSIFIERS[label]) for label in ("max pooling", "soft attention")}
    rows = []
    for i in indices:
        image, target = data[i]
        with torch.no_grad():
            maps = {label: model.where(image[None])[0] for label, model in models.items()}
        rows.append([outlined(image, target["mask"])] + [weights_picture(image, m) for m in maps.values()])
    return viz.grid(rows, titles=["target outlined", "max pooling: channel peaks", "soft attention: weights"],
                    legend=False, cell=1.9)


def glimpse_boxes(name: str, indices) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Scenes ``indices`` (B, 3, H, W), the glimpse boxes (B, 4) of transformer ``name`` and its glimpses (B, 3, g, g)."""
    model = checkpoints.load_shared(name)
    data = Cluttered("test", max(indices) + 1, image_size=CLUTTERED_SIZE)
    images = torch.stack([data[i][0] for i in indices])
    with torch.no_grad():
        theta = model.theta(images)
        return images, model.where(images), model.cut(images, theta)


def draw_glimpses(indices=(0, 1, 2, 3, 4, 5), name: str = "glimpse") -> Figure:
    """Top: scenes with the first glimpse (the whole scene, dashed) and the learned one (yellow). Bottom: the glimpses."""
    images, boxes, glimpses = glimpse_boxes(name, indices)
    data = Cluttered("test", max(indices) + 1, image_size=CLUTTERED_SIZE)
    fig = viz.grid([[outlined(image, data[i][1]["mask"]) for i, image in zip(indices, images)],
                    [viz.image_to_rgb(g.clamp(0, 1)) for g in glimpses]],
                   titles=[f"scene {i}" for i in indices], legend=False, cell=1.6)
    for ax, box in zip(fig.axes[:len(indices)], boxes.tolist()):
        ax.add_patch(Rectangle((-0.5, -0.5), CLUTTERED_SIZE, CLUTTERED_SIZE, fill=False, ls="--", ec="white", lw=1.2))
        ax.add_patch(Rectangle((box[0] - 0.5, box[1] - 0.5), box[2] - box[0], box[3] - box[1], fill=False,
                               ec="yellow", lw=1.8))
    fig.axes[len(indices)].set_ylabel("what the\nclassifier sees", fontsize=8)
    return fig


def scale_outputs(name: str, scenes: int = SCALE_SCENES) -> tuple[torch.Tensor, torch.Tensor]:
    """Labels (N, H, W) and per-pixel scale weights (N, 3, H, W) of scale fusion ``name`` on chapter 3's test scenes."""
    return _scale_outputs(name, scenes)


@lru_cache(maxsize=None)
def _scale_outputs(name: str, scenes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``scale_outputs``, cached under one key however it is called."""
    model = checkpoints.load_shared(name)
    images, _ = Shapes("test", scenes).batch(range(scenes))
    labels, weights = [], []
    with torch.no_grad():
        for chunk in images.split(100):  # three full-resolution feature maps per scene: 100 scenes at a time
            scores, w = model(chunk, return_weights=True)
            labels.append(scores.argmax(1))
            weights.append(w)
    return torch.cat(labels), torch.cat(weights)


def scale_weight_by_size(edges=(0, 12, 20, 32, 64), scenes: int = 100) -> tuple[list[str], np.ndarray]:
    """Mean attention weight of each scale over the pixels of objects in each size bin (side of the object's box).

    Returns the bins' names and an array (bins, 3). Chen et al.'s claim, on
    our scenes: small objects lean on the fine scale, large ones on coarse.
    """
    _, weights = scale_outputs("scale_attention")  # the first ``scenes`` of the chapter's
    if scenes > len(weights):
        raise ValueError(f"scenes must be at most the chapter's {len(weights)} test scenes, got {scenes}")
    data = Shapes("test", scenes)
    sums, counts = np.zeros((len(edges) - 1, 3)), np.zeros(len(edges) - 1)
    for i in range(scenes):
        target = data[i][1]
        sides = (target["boxes"][:, 2:] - target["boxes"][:, :2]).amax(1)
        for mask, side in zip(target["masks"], sides.tolist()):
            b = np.searchsorted(edges, side, side="right") - 1
            if 0 <= b < len(edges) - 1:
                sums[b] += weights[i][:, mask].sum(1).numpy()
                counts[b] += mask.sum().item()
    names = [f"{lo}-{hi} px" for lo, hi in zip(edges[:-1], edges[1:])]
    return names, sums / np.maximum(counts, 1)[:, None]


def draw_scale_weights(indices=(3, 7)) -> Figure:
    """Per scene: the image, its labels by attention fusion, and the weight each scale gets at every pixel."""
    labels, weights = scale_outputs("scale_attention")
    images, _ = Shapes("test", max(indices) + 1).batch(list(indices))
    rows = [[image, labels[i]] + [w.numpy() for w in weights[i]] for i, image in zip(indices, images)]
    columns = 2 + len(SCALE_NAMES)
    fig = viz.grid(rows, titles=["image", "labels"] + [f"weight of scale {s}" for s in SCALE_NAMES], cell=1.9)
    maps = [ax.get_images()[0] for k, ax in enumerate(fig.axes[:len(rows) * columns]) if k % columns >= 2]
    for image in maps:
        image.set(cmap="magma", clim=(0, 1))
    fig.colorbar(maps[-1], ax=fig.axes[:len(rows) * columns], shrink=0.7, label="weight (the scales sum to 1)")
    return fig


def draw_attention(index: int = 0, model: str = "soft attention") -> Figure:
    """The widget's figure: test scene ``index``, where classifier ``model`` looked, its class probabilities."""
    if model not in CLASSIFIERS:
        raise ValueError(f"model must be one of {', '.join(CLASSIFIERS)}, got {model!r}")
    if not 0 <= index < WIDGET_SCENES:
        raise ValueError(f"index must be a test scene in 0..{WIDGET_SCENES - 1}, got {index}")
    image, target = Cluttered("test", WIDGET_SCENES, image_size=CLUTTERED_SIZE)[index]
    net = checkpoints.load_shared(CLASSIFIERS[model])
    with torch.no_grad():
        probabilities = net(image[None]).softmax(1)[0]
        where = net.where(image[None])[0]
    fig, axes = plt.subplots(1, 3, figsize=(7.6, 2.6), gridspec_kw={"width_ratios": [1, 1, 1.3]}, layout="constrained")
    viz.show(axes[0], outlined(image, target["mask"]), f"scene {index}: {CLASS_NAMES[target['label']]}")
    if where.ndim == 1:
        viz.show(axes[1], viz.image_to_rgb(image), "the glimpse")
        x0, y0, x1, y1 = where.tolist()
        axes[1].add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec="yellow", lw=2))
    else:
        viz.show(axes[1], weights_picture(image, where), "where it looked")
    names = CLASS_NAMES[1:]
    colours = ["tab:green" if k + 1 == target["label"] else "tab:grey" for k in range(len(names))]
    axes[2].barh(names, probabilities.numpy(), color=colours)
    axes[2].set_xlim(0, 1)
    axes[2].set_xlabel("probability (green: the true class)")
    axes[2].invert_yaxis()
    fig.suptitle(model)
    return fig


#: A hard-attention sensor's three scales (Mnih et al.'s retina): patches of these sides, all shown at the first's.
RETINA = (8, 16, 32)


def retina(image: torch.Tensor, centre: tuple[int, int], sizes: tuple[int, ...] = RETINA) -> list[torch.Tensor]:
    """Patches (3, sizes[0], sizes[0]) of ``image`` (3, H, W) around ``centre`` (x, y): each twice the last's side, shrunk."""
    padded = F.pad(image[None], [sizes[-1]] * 4, mode="replicate")[0]
    x, y = centre[0] + sizes[-1], centre[1] + sizes[-1]
    patches = [padded[:, y - s // 2:y + s // 2, x - s // 2:x + s // 2] for s in sizes]
    return [F.interpolate(p[None], size=sizes[0], mode="area")[0] for p in patches]


def draw_hard_attention(index: int = 2, steps: int = 3) -> Figure:
    """A hard-attention episode sketched on test scene ``index``: ``steps`` glimpse locations, each read by a retina.

    The locations are set by hand (the scene's centre, then halfway to the
    target, then on it): an illustration of what RAM's sensor sees, not a
    trained model.
    """
    image, target = Cluttered("test", index + 1, image_size=CLUTTERED_SIZE)[index]
    x0, y0, x1, y1 = target["box"].tolist()
    goal, start = ((x0 + x1) / 2, (y0 + y1) / 2), (CLUTTERED_SIZE / 2, CLUTTERED_SIZE / 2)
    centres = [(round(start[0] + (goal[0] - start[0]) * t / (steps - 1)), round(start[1] + (goal[1] - start[1]) * t / (steps - 1)))
               for t in range(steps)]
    fig, axes = plt.subplots(len(RETINA), steps + 1, figsize=(1.7 * (steps + 1), 1.7 * len(RETINA)),
                             layout="constrained")
    viz.show(axes[0, 0], outlined(image, target["mask"]), f"scene {index}")
    for t, (cx, cy) in enumerate(centres):
        for k, side in enumerate(RETINA):
            axes[0, 0].add_patch(Rectangle((cx - side / 2 - 0.5, cy - side / 2 - 0.5), side, side, fill=False,
                                           ec=plt.cm.autumn(t / steps), lw=1.0))
            viz.show(axes[k, t + 1], retina(image, (cx, cy))[k], f"glimpse {t + 1}" if k == 0 else None)
        axes[0, 0].text(cx, cy, str(t + 1), color="white", ha="center", va="center", fontsize=9, weight="bold")
        axes[-1, t + 1].set_xlabel(f"at ({cx}, {cy})", fontsize=8)
    for k, side in enumerate(RETINA):
        axes[k, 1].set_ylabel(f"{side}x{side} px\nshown at {RETINA[0]}", fontsize=8)
    for ax in axes[1:, 0]:
        ax.axis("off")
    return fig


def reinforce_loss(log_probs: torch.Tensor, rewards: torch.Tensor, baseline: float | torch.Tensor) -> torch.Tensor:
    """REINFORCE's surrogate loss: minus the mean of ``(reward - baseline) * log pi(action)`` over (N,) samples.

    Its gradient is an unbiased estimate of minus the gradient of the expected
    reward, whatever the ``baseline`` (it does not depend on the action); a
    baseline near the mean reward makes the estimate far less noisy.
    """
    return -((rewards - baseline) * log_probs).mean()


def reinforce_gradients(loss=reinforce_loss, baseline: float = 0.0, trials: int = 2000, samples: int = 16,
                        offset: float = 1.0, logit: float = -1.0) -> torch.Tensor:
    """(trials,) estimates of d(expected reward)/d(logit) for a two-place glimpse policy, each from ``samples`` glimpses.

    The policy looks at the target with probability p = sigmoid(``logit``); the
    reward is ``offset + 1`` for a look at the target, ``offset`` otherwise, so
    the true gradient is p (1 - p) whatever the offset. ``loss(log_probs,
    rewards, baseline)`` is the surrogate whose gradient is the estimate.
    """
    generator = torch.Generator().manual_seed(0)
    p = torch.sigmoid(torch.tensor(logit)).item()
    estimates = []
    for _ in range(trials):
        theta = torch.tensor(logit, requires_grad=True)
        actions = torch.rand(samples, generator=generator) < p
        log_probs = torch.where(actions, F.logsigmoid(theta), F.logsigmoid(-theta))
        rewards = offset + actions.float()
        (-loss(log_probs, rewards, baseline)).backward()
        estimates.append(theta.grad.item())
    return torch.tensor(estimates)
