"""What the papers report: the one place the course types a published number.

Chapters print these beside their own measurements and glue them into the
prose; ``book/reproductions.md`` pastes both. Each entry names its source
(paper key in ``book/references.bib``), its data set and its metric, so a
number never appears without what it measures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reported:
    """One published number: ``value`` in ``unit`` of ``metric`` on ``dataset``, from bibliography key ``source``."""

    value: float
    source: str
    dataset: str
    metric: str
    unit: str = "%"


_FCN = {"source": "long2015fcn", "dataset": "PASCAL VOC2011 val subset", "metric": "mean IU"}
_FARABET = {"source": "farabet2013scene", "dataset": "Stanford Background", "metric": "pixel accuracy"}
_SDS = {"source": "hariharan2014sds", "dataset": "PASCAL VOC2012 val (SBD masks)", "metric": "mask AP at IoU 0.5 (APr)"}
_HYPERCOLUMNS = {"source": "hariharan2015hypercolumns", "dataset": "PASCAL VOC2012 val (SBD masks)"}

_STN = {"source": "jaderberg2015spatial", "dataset": "cluttered translated MNIST", "metric": "error"}
_RAM = {"source": "mnih2014recurrent", "dataset": "cluttered MNIST (60x60, 4 distractors)", "metric": "error"}
_SAT = {"source": "xu2015show", "dataset": "Flickr8k", "metric": "BLEU-4", "unit": ""}

PAPERS: dict[str, Reported] = {
    "fcn32s": Reported(59.4, **_FCN),
    "fcn16s": Reported(62.4, **_FCN),
    "fcn8s": Reported(62.7, **_FCN),
    "fcn32s_last_layer_only": Reported(45.4, **_FCN),
    "farabet_singlescale": Reported(66.0, **_FARABET),
    "farabet_multiscale": Reported(78.8, **_FARABET),
    "farabet_multiscale_crf": Reported(81.4, **_FARABET),
    "pinheiro_rcnn": Reported(80.2, "pinheiro2014rcnn", "Stanford Background",
                              "pixel accuracy, rCNN (the number of instances of this row is not verified here)"),
    # Table 1's systems A, B and C (the names of the authors' released networks); what differs between them
    # could not be checked here, so no key claims they are box-only, region-only and both.
    "sds_a": Reported(42.9, **_SDS),
    "sds_b": Reported(47.0, **_SDS),
    "sds_c": Reported(47.7, **_SDS),
    "sds_refined": Reported(49.7, **_SDS),
    "hypercolumn_fc7_ap50": Reported(44.0, metric="mask AP at IoU 0.5, fc7 only", **_HYPERCOLUMNS),
    "hypercolumn_ap50": Reported(49.1, metric="mask AP at IoU 0.5, hypercolumn", **_HYPERCOLUMNS),
    "hypercolumn_fc7_ap70": Reported(16.3, metric="mask AP at IoU 0.7, fc7 only", **_HYPERCOLUMNS),
    "hypercolumn_ap70": Reported(29.1, metric="mask AP at IoU 0.7, hypercolumn", **_HYPERCOLUMNS),
    "mnc_ap50": Reported(63.5, "dai2016mnc", "PASCAL VOC2012 val (SBD masks)", "mask AP at IoU 0.5 (mAPr)"),
    "mnc_seconds": Reported(0.36, "dai2016mnc", "PASCAL VOC2012 val", "seconds per image", "s"),
    "sds_seconds": Reported(48.0, "dai2016mnc", "PASCAL VOC2012 val", "seconds per image (SDS, as timed by MNC)", "s"),
    "odena_overlap_1d": Reported(2, "odena2016checkerboard", "kernel 3, stride 2", "max / min overlap, 1-D", ":1"),
    "odena_overlap_2d": Reported(4, "odena2016checkerboard", "kernel 3, stride 2", "max / min overlap, 2-D", ":1"),
    "maskrcnn_ap": Reported(35.7, "he2017maskrcnn", "COCO test-dev", "mask AP (0.5:0.95), R-101-FPN"),
    "stn_cnn": Reported(3.5, **_STN),
    "stn_st_cnn": Reported(1.7, **_STN),
    "stn_fcn": Reported(13.2, **_STN),
    "stn_st_fcn": Reported(2.0, **_STN),
    "ram_conv": Reported(8.09, **_RAM),
    "ram_4": Reported(4.96, **_RAM),
    "ram_6": Reported(4.08, **_RAM),
    "ram_8": Reported(4.04, **_RAM),
    "ram_random": Reported(14.4, **_RAM),
    "sat_soft": Reported(19.5, **_SAT),
    "sat_hard": Reported(21.3, **_SAT),
}


def paper(key: str) -> float:
    """The reported value of ``key`` (see ``PAPERS``)."""
    if key not in PAPERS:
        raise ValueError(f"key must be one of {', '.join(PAPERS)}; got {key!r}")
    return PAPERS[key].value

