"""Bottom-up clean-up of a network's labels: superpixels and a segmentation tree (chapter 3).

Farabet et al. 2013 label pixels with a CNN, then let a segmentation that
knows nothing about classes tidy the result: (a) *superpixels*, small regions
of similar colour, each labelled by the class its pixels agree on most; (b) a
*segmentation tree* of nested regions, each pixel labelled by the tree node
whose predicted class distribution is purest (their "optimal cover"). The
regions come from scikit-image (Felzenszwalb & Huttenlocher's graph-based
segmentation and a region adjacency graph merged hierarchically); only the
voting is written here. Taught in ``lectures/03_multiscale``.
"""

from __future__ import annotations

import numpy as np
import torch
from skimage import graph
from skimage.segmentation import felzenszwalb

#: Felzenszwalb's smoothing before segmenting, and its smallest region, in pixels.
FELZENSZWALB_SIGMA, FELZENSZWALB_MIN_SIZE = 0.5, 8
#: The superpixel scale and the tree's merge threshold (RGB distance of mean colours) the chapter uses:
#: chosen on validation scenes by ``python -m utils.chapters.multiscale`` (never on the test scenes).
SUPERPIXEL_SCALE, MERGE_THRESHOLD = 60.0, 0.2


def superpixels(image: torch.Tensor, scale: float = SUPERPIXEL_SCALE) -> np.ndarray:
    """Felzenszwalb superpixels of ``image`` (3, H, W) in [0, 1]: int (H, W) region ids 0..S-1.

    A larger ``scale`` gives larger regions. Raises ``ValueError`` for ``scale <= 0``.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive (larger gives larger superpixels), got {scale}")
    rgb = image.permute(1, 2, 0).double().numpy()
    return felzenszwalb(rgb, scale=scale, sigma=FELZENSZWALB_SIGMA, min_size=FELZENSZWALB_MIN_SIZE)


def region_sums(probabilities: torch.Tensor, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities summed over each region: (S, C), and each region's pixel count: (S,).

    ``probabilities`` (C, H, W), ``regions`` int (H, W) with ids 0..S-1.
    """
    flat = regions.ravel()
    count = np.bincount(flat)
    sums = np.stack([np.bincount(flat, weights=p.ravel(), minlength=len(count))
                     for p in probabilities.double().numpy()], 1)
    return sums, count


def superpixel_vote(probabilities: torch.Tensor, regions: np.ndarray) -> torch.Tensor:
    """Every pixel takes the class whose mean probability over its superpixel is highest: (H, W) int64."""
    sums, _ = region_sums(probabilities, regions)
    return torch.from_numpy(sums.argmax(1)[regions])


def _merge_mean_colour(rag: graph.RAG, src: int, dst: int) -> None:
    """Before ``src`` merges into ``dst``: pool their colour statistics (skimage's hierarchical-merge recipe)."""
    node, other = rag.nodes[dst], rag.nodes[src]
    node["total color"] += other["total color"]
    node["pixel count"] += other["pixel count"]
    node["mean color"] = node["total color"] / node["pixel count"]


def _distance(rag: graph.RAG, a: int, b: int) -> float:
    """How far apart the mean colours of regions ``a`` and ``b`` are: an edge's weight."""
    return float(np.linalg.norm(rag.nodes[a]["mean color"] - rag.nodes[b]["mean color"]))


def _colour_distance(rag: graph.RAG, src: int, dst: int, neighbour: int) -> dict:
    return {"weight": _distance(rag, dst, neighbour)}


def colour_graph(rgb: np.ndarray, regions: np.ndarray) -> graph.RAG:
    """``skimage.graph.rag_mean_color(rgb, regions)``, built with NumPy rather than per-pixel Python.

    The same graph (8-connected regions; each edge weighted by the distance of
    the two regions' mean colours; the node attributes hierarchical merging
    needs), about ten times faster on our scenes; ``tests/test_bottom_up.py``
    holds it to scikit-image's. ``rgb`` (H, W, 3), ``regions`` int (H, W) ids 0..S-1.
    """
    count = int(regions.max()) + 1
    flat = regions.ravel()
    pixels = np.bincount(flat, minlength=count)
    totals = np.stack([np.bincount(flat, weights=rgb[..., c].ravel(), minlength=count) for c in range(3)], 1)
    rag = graph.RAG()
    for n in range(count):
        rag.add_node(n, labels=[n], **{"pixel count": int(pixels[n]), "total color": totals[n].copy(),
                                       "mean color": totals[n] / pixels[n]})
    neighbours = [(regions[:, :-1], regions[:, 1:]), (regions[:-1], regions[1:]),
                  (regions[:-1, :-1], regions[1:, 1:]), (regions[:-1, 1:], regions[1:, :-1])]
    pairs = np.concatenate([np.stack([a[a != b], b[a != b]], 1) for a, b in neighbours])
    for x, y in np.unique(np.sort(pairs, 1), axis=0).tolist():
        rag.add_edge(x, y, weight=_distance(rag, x, y))
    return rag


def segmentation_tree(image: torch.Tensor, regions: np.ndarray, threshold: float = MERGE_THRESHOLD) -> list[list[int]]:
    """Every node of the trees that merge adjacent ``regions`` by mean colour, as lists of region ids.

    The most similar neighbours merge first; merging stops once every pair of
    neighbours differs by ``threshold`` or more (RGB distance of mean colours),
    so the result is a forest whose roots do not straddle colour edges. The
    leaves (each region alone) come first, then one node per merge. With
    ``threshold=inf`` everything merges into one root: ``2 S - 1`` nodes for ``S`` regions.
    """
    rag = colour_graph(image.permute(1, 2, 0).double().numpy(), regions)
    nodes = [[r] for r in range(int(regions.max()) + 1)]

    def record_and_merge(rag: graph.RAG, src: int, dst: int) -> None:
        nodes.append(rag.nodes[src]["labels"] + rag.nodes[dst]["labels"])
        _merge_mean_colour(rag, src, dst)

    graph.merge_hierarchical(regions, rag, thresh=threshold, rag_copy=False, in_place_merge=True,
                             merge_func=record_and_merge, weight_func=_colour_distance)
    return nodes


def entropy(distributions: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of (N, C) probability rows."""
    p = np.clip(distributions, 1e-12, 1.0)
    return -(p * np.log(p)).sum(1)


def purest_cover(probabilities: torch.Tensor, regions: np.ndarray, nodes: list[list[int]]) -> torch.Tensor:
    """Label every pixel by the tree node, among those containing it, with the purest class distribution.

    A node's distribution is the mean of its pixels' ``probabilities`` (C, H, W);
    purity is low entropy. Returns (H, W) int64.
    """
    sums, count = region_sums(probabilities, regions)
    best_entropy = np.full(len(count), np.inf)
    best_class = np.zeros(len(count), dtype=np.int64)
    for members in nodes:
        distribution = sums[members].sum(0) / count[members].sum()
        h = entropy(distribution[None])[0]
        better = [m for m in members if h < best_entropy[m]]
        best_entropy[better], best_class[better] = h, int(distribution.argmax())
    return torch.from_numpy(best_class[regions])


def tree_cover(image: torch.Tensor, probabilities: torch.Tensor, scale: float = SUPERPIXEL_SCALE,
               threshold: float = MERGE_THRESHOLD) -> torch.Tensor:
    """Superpixels of ``image``, their segmentation tree, and the purest cover of ``probabilities``: (H, W)."""
    if threshold <= 0:
        raise ValueError(f"threshold must be a positive colour distance, got {threshold}")
    regions = superpixels(image, scale)
    return purest_cover(probabilities, regions, segmentation_tree(image, regions, threshold))


def superpixel_cleanup(image: torch.Tensor, probabilities: torch.Tensor, scale: float = SUPERPIXEL_SCALE) -> torch.Tensor:
    """Superpixels of ``image`` (3, H, W), each labelled by its mean ``probabilities`` (C, H, W): (H, W)."""
    return superpixel_vote(probabilities, superpixels(image, scale))


#: The clean-ups by name: ``CLEANUPS[name](image, probabilities, scale) -> labels``.
CLEANUPS = {"superpixels": superpixel_cleanup, "tree": tree_cover}
