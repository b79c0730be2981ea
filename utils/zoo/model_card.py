"""HTML tables of the shipped models, read from the manifest: the model card page (``book/model_card.md``).

Also the phrases chapters 3, 4, 5, 7 and 8 glue about how their models were
trained (``trained_on``, ``cumulative_steps``), so a retrained zoo rewrites them.
"""

from __future__ import annotations

import base64
import html
import io

from ..models import LIMITATIONS, ZOO
from .checkpoints import WEIGHTS_DIR, read_manifest
from .seeds import read_records


def _table(header: list[str], rows: list[list[str]]) -> str:
    """An HTML table that scrolls sideways inside the article column instead of widening the page."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return (f'<div class="course-table" style="overflow-x: auto"><table class="table"><thead><tr>{head}</tr>'
            f'</thead><tbody>{body}</tbody></table></div>')


def shipped() -> list[tuple[str, dict]]:
    """The manifest's entries chapter by chapter (the zoo's order within one), not the file's alphabetical order."""
    manifest = read_manifest()
    names = sorted((name for name in ZOO if name in manifest), key=lambda name: manifest[name]["chapter"])
    return [(name, manifest[name]) for name in names]


def trained_on(device: str) -> str:
    """The manifest's ``device`` as prose: ``cpu: x86_64, 2 threads`` -> ``2 CPU threads``,
    ``cuda: NVIDIA H100 80GB HBM3`` -> ``an NVIDIA H100 80GB HBM3 GPU``.

    Chapters glue it beside training times, so a retrained zoo never leaves a
    sentence saying where it was trained wrong.
    """
    kind, _, detail = device.partition(": ")
    if kind == "cpu":
        threads = detail.rpartition(", ")[2].removesuffix(" threads")
        return f"{threads} CPU thread{'s' if threads != '1' else ''}" if threads.isdigit() else "a CPU"
    if kind == "cuda":
        return f"an {detail} GPU" if detail else "a GPU"
    raise ValueError(f"device must be a manifest device such as 'cpu: x86_64, 2 threads' or 'cuda: NAME', got {device!r}")


def cumulative_steps(name: str, manifest: dict[str, dict]) -> int:
    """``name``'s own steps plus those of every model it started from (FCN-8s: 32s + 16s + its own)."""
    entry = manifest[name]
    return entry["steps"] + (cumulative_steps(entry["init_from"], manifest) if entry["init_from"] else 0)


def describe_models() -> str:
    """One row per shipped model: its chapter, what it is, its size and what it started from."""
    rows = []
    for name, e in shipped():
        size_kb = (WEIGHTS_DIR / e["file"]).stat().st_size / 1024
        start = e["init_from"] or "scratch"
        if "trunk" in e:
            start += f"; reads frozen {e['trunk']['name']}"
        rows.append([f"<code>{name}</code>", e["chapter"][:2], html.escape(e["description"]),
                     f"{e['parameters']:,}", f"{size_kb:,.0f} KB", html.escape(start)])
    return _table(["model", "chapter", "what it is", "trained parameters", "file", "started from"], rows)


def limitations_table() -> str:
    """One row per shipped model: what it cannot do (``utils.models.limitations``)."""
    return _table(["model", "limitations"], [[f"<code>{name}</code>", html.escape(LIMITATIONS[name])]
                                             for name, _ in shipped()])


def training_table() -> str:
    """One row per shipped model: how, where and how long it was trained, and which file that made."""
    entries = dict(shipped())
    rows = []
    for name, e in entries.items():
        steps = f"{e['steps']:,} x {e['batch_size']}"
        if e["init_from"]:
            steps += f"<br>({cumulative_steps(name, entries):,} in all)"
        rows.append([
            f"<code>{name}</code>", steps, f"{e['image_size']}px", str(e["lr"]), html.escape(trained_on(e["device"])),
            f"{e['train_seconds']:.0f}", str(e["seed"]),
            f"{html.escape(e['torch'])}, {e['trained_on']}<br><code>{e['sha256'][:12]}</code>",
        ])
    header = ["model", "steps x batch", "scenes", "lr", "trained on", "seconds", "seed", "torch, date, sha256"]
    return _table(header, rows)


#: What a seed record is scored by, in order of preference: a semantic model, a classifier, an instance method.
SEED_METRICS = (("miou", "mIoU"), ("accuracy", "accuracy"), ("ap50", "mask AP50"))


def seeds_table() -> str:
    """One row per model a chapter compares by seed: its score per training seed on that chapter's scenes."""
    rows = []
    for name, runs in read_records().items():
        where = next(iter(runs.values()))["metrics"]
        key, metric = next((key, label) for key, label in SEED_METRICS if key in where)
        scores = {int(seed): run["metrics"][key] for seed, run in runs.items()}
        cells = [f"{scores[seed]:.3f}" if seed in scores else "-" for seed in range(3)]
        values = list(scores.values())
        spread = f"{min(values):.3f} / {sum(values) / len(values):.3f} / {max(values):.3f}"
        spec = ZOO[name]
        scenes = spec.test_scenes or spec.scenes
        kind = "" if scenes in ("shapes", "cluttered") else f" ({scenes.replace('_', ' ')})"
        rows.append([f"<code>{name}</code>", f"{metric}: {where['split']} split (data seed {where['seed']}), {where['length']} scenes{kind}",
                     *cells, spread, f"{max(values) - min(values):.3f}"])
    return _table(["model", "scored on", "training seed 0 (shipped)", "seed 1", "seed 2", "lowest / mean / highest",
                   "range"], rows)


def scored(metric: str) -> list[tuple[str, dict, str]]:
    """(name, recorded metrics, what they were measured on) of every shipped model that records ``metric``."""
    return [(name, e["metrics"], f"{e['metrics']['split']}, seed {e['metrics']['seed']}, {e['metrics']['length']} scenes")
            for name, e in shipped() if metric in e["metrics"]]


def metrics_table() -> str:
    """One row per shipped semantic model: its recorded test metrics."""
    rows = [[f"<code>{name}</code>", where, f"{m['miou']:.4f}", f"{m['pixel_accuracy']:.4f}",
             " / ".join("n/a" if v is None else f"{v:.3f}" for v in m["iou_per_class"])]
            for name, m, where in scored("miou")]
    return _table(["model", "evaluated on", "mIoU", "pixel accuracy", "IoU per class"], rows)


def _recorded(metrics: dict, key: str) -> str:
    """A recorded number, or "-" for a record made before the metric existed (a model not retrained since)."""
    return f"{metrics[key]:.3f}" if key in metrics else "-"


def instance_table() -> str:
    """One row per shipped instance model: its recorded mask AP on ordinary and on crowded 128x128 test scenes."""
    keys = ("ap50", "ap75", "ap", "ap50_crowded", "ap75_crowded", "ap_crowded")
    rows = [[f"<code>{name}</code>", where, *(_recorded(m, key) for key in keys)] for name, m, where in scored("ap50")]
    return _table(["model", "evaluated on (each kind)", "AP50", "AP75", "AP", "AP50 crowded", "AP75 crowded",
                   "AP crowded"], rows)


def classifier_table() -> str:
    """One row per shipped classifier (chapter 8): accuracy, where it looked, its cost per image."""
    rows = [[f"<code>{name}</code>", where, f"{m['accuracy']:.3f}", _recorded(m, "mass"), _recorded(m, "pointing"),
             _recorded(m, "box_iou"), f"{m['multiply_adds'] / 1e6:.1f} M"] for name, m, where in scored("accuracy")]
    return _table(["model", "evaluated on", "accuracy", "attention mass on target", "pointing game",
                   "glimpse IoU with target box", "multiply-adds per image"], rows)


def seed_curves(name: str) -> dict[int, list[list[float]]]:
    """``{seed: loss curve}`` kept by ``name``'s other training seeds' runs (``utils/weights/seeds.json``)."""
    runs = read_records().get(name, {})
    return {int(seed): runs[seed]["trained"]["loss_curve"] for seed in sorted(runs, key=int)
            if seed != "0" and runs[seed]["trained"].get("loss_curve")}


#: The key under which a model's curves hold a retraining's (same recipe and seed, weights not bit-identical).
RETRAINED = -1


def _draw_curves(ax, curves: dict[str, dict[int, list]]) -> None:
    """``{name: {seed: curve}}`` on ``ax``: the shipped run (seed 0) solid; other seeds' runs, or a retraining of
    seed 0 whose weights differ (``RETRAINED``), dashed; one colour a model."""
    for name, runs in curves.items():
        colour = None
        for k, (seed, run) in enumerate(runs.items()):
            steps, losses = zip(*run)
            others = ", ".join(map(str, runs))
            label = (name if seed == 0 else f"{name}: a retraining, seed 0" if seed == RETRAINED
                     else f"{name}: seed{'s' * (len(runs) > 1)} {others}") if k == 0 else None
            line, = ax.plot(steps, losses, "-" if seed == 0 else "--", color=colour, label=label)
            colour = line.get_color()


def learning_curves() -> str:
    """The training loss of every shipped model, one panel per chapter, as an HTML img.

    A solid line is the shipped run's own curve. A model trained before
    curves were kept, and not retrained bit for bit
    (``utils.zoo.recorded_curves``), is drawn dashed: from a retraining of its
    recipe and seed whose weights came out different, else from its other
    training seeds' runs; one with none of these is named.
    """
    import matplotlib.pyplot as plt

    by_chapter: dict[str, dict[str, dict[int, list]]] = {}
    missing = []
    for name, e in shipped():
        runs = ({0: e["loss_curve"]} if e.get("loss_curve") else {RETRAINED: e["retrained_curve"]}
                if e.get("retrained_curve") else seed_curves(name))
        if runs:
            by_chapter.setdefault(e["chapter"], {})[name] = runs
        else:
            missing.append(name)
    if not by_chapter:
        return f"<p>No shipped record keeps its learning curve yet ({', '.join(missing)}).</p>"
    columns = min(3, len(by_chapter))  # three panels a row: the page column is about 1000 px wide
    rows = -(-len(by_chapter) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.0 * rows), squeeze=False)
    for ax in axes.flat[len(by_chapter):]:
        ax.axis("off")
    for ax, chapter in zip(axes.flat, sorted(by_chapter)):
        _draw_curves(ax, by_chapter[chapter])
        ax.set(title=f"chapter {chapter[:2]}", xlabel="training step", ylabel="training loss (window mean)",
               yscale="log")
        ax.legend(fontsize=6)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    image = base64.b64encode(buffer.getvalue()).decode()
    note = (f"<p>Trained before the curves were kept and no other seed's run kept one, so not drawn: "
            f"{html.escape(', '.join(missing))}.</p>" if missing else "")
    return (f'<img alt="training loss against step for each model" style="max-width: 100%" '
            f'src="data:image/png;base64,{image}">{note}')
