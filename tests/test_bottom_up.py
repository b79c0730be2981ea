"""Chapter 3's clean-ups: the superpixel vote, the segmentation tree, the purest cover."""

import numpy as np
import pytest
import torch

from utils import bottom_up
from utils.data import Shapes


def test_superpixel_vote_takes_each_regions_mean_winner():
    regions = np.array([[0, 0, 1, 1]])
    probs = torch.tensor([[[0.6, 0.1, 0.2, 0.2]], [[0.4, 0.9, 0.8, 0.8]]])  # (C=2, H=1, W=4)
    # region 0: class 0 mean 0.35, class 1 mean 0.65 -> class 1 everywhere in it
    assert bottom_up.superpixel_vote(probs, regions).tolist() == [[1, 1, 1, 1]]
    sums, count = bottom_up.region_sums(probs, regions)
    assert count.tolist() == [2, 2] and np.allclose(sums[0], [0.7, 1.3])


def test_superpixels_follow_a_flat_colour_edge_and_refuse_bad_scales():
    image = torch.zeros(3, 32, 32)
    image[:, :, 16:] = 1.0
    regions = bottom_up.superpixels(image, 50.0)
    left, right = set(np.unique(regions[:, :16])), set(np.unique(regions[:, 16:]))
    assert not left & right, "a superpixel straddles the colour edge"
    assert len(np.unique(regions)) <= 6  # two flat halves and the blurred columns between them
    with pytest.raises(ValueError, match="scale"):
        bottom_up.superpixels(image, -1.0)


def test_tree_to_the_root_has_every_merge():
    image, _ = Shapes("test", 1)[0]
    regions = bottom_up.superpixels(image)
    count = int(regions.max()) + 1
    nodes = bottom_up.segmentation_tree(image, regions, threshold=np.inf)
    assert len(nodes) == 2 * count - 1
    assert sorted(nodes[-1]) == list(range(count))
    stopped = bottom_up.segmentation_tree(image, regions, threshold=0.0)
    assert len(stopped) == count


def test_purest_cover_prefers_the_pure_node():
    regions = np.array([[0, 1, 2]])
    # region 0 says class 1 with 0.6; regions 0+1 together are a purer class 1; region 2 is class 0
    probs = torch.tensor([[[0.4, 0.0, 1.0]], [[0.6, 1.0, 0.0]]])
    nodes = [[0], [1], [2], [0, 1], [0, 1, 2]]
    assert bottom_up.purest_cover(probs, regions, nodes).tolist() == [[1, 1, 0]]
    assert np.isclose(bottom_up.entropy(np.array([[0.5, 0.5]]))[0], np.log(2))


def test_tree_cover_refuses_a_bad_threshold():
    image, _ = Shapes("test", 1)[0]
    with pytest.raises(ValueError, match="threshold"):
        bottom_up.tree_cover(image, torch.full((6, 64, 64), 1 / 6), threshold=0)


def test_colour_graph_is_scikit_images_rag_mean_color():
    from skimage import graph

    image, _ = Shapes("test", 2, image_size=128)[1]
    regions = bottom_up.superpixels(image, 100.0)
    rgb = image.permute(1, 2, 0).double().numpy()
    ours, theirs = bottom_up.colour_graph(rgb, regions), graph.rag_mean_color(rgb, regions)
    assert set(map(frozenset, ours.edges)) == set(map(frozenset, theirs.edges))
    for x, y in theirs.edges:
        assert np.isclose(ours.edges[x, y]["weight"], theirs.edges[x, y]["weight"])
    for n in theirs.nodes:
        assert ours.nodes[n]["pixel count"] == theirs.nodes[n]["pixel count"]
        assert np.allclose(ours.nodes[n]["mean color"], theirs.nodes[n]["mean color"])
