"""``glue(name, value)``: hand a computed number to the book's prose, and nothing else.

When the book is built, myst-nb's ``glue`` records the value so that
``{glue:text}`name``` in the markdown shows it. In a plain Jupyter or Colab
session the record is invisible; where myst-nb is not installed at all (a
fresh Colab runtime needs only what the chapters compute with) nothing
happens, so a chapter never installs Sphinx to run. Used by every chapter;
``glue_interval`` glues a measured difference with its noise scale.
"""

from __future__ import annotations

from typing import Any

from .bootstrap import noise_verdict

try:
    from myst_nb import glue as _myst_glue
except ImportError:  # no book tool chain: the chapter still runs, the value just is not recorded
    _myst_glue = None


def glue(name: str, value: Any) -> None:
    """Record ``value`` under ``name`` for ``{glue:text}`name``` in the prose; shows nothing in the notebook.

    NumPy and torch scalars are stored as plain Python numbers, so a format
    such as ``:.3f`` in the prose applies to them.
    """
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if _myst_glue is not None:
        _myst_glue(name, value, display=False)


def glue_interval(key: str, interval: tuple[float, float, float]) -> tuple[float, float, float]:
    """Glue a difference and its bootstrap interval ``(value, low, high)`` for the prose; returns ``interval``.

    Defines ``key``, ``key_ci_low``, ``key_ci_high`` and ``key_verdict``
    (``inside the noise`` when the interval contains zero, else ``outside the
    noise``), the four names every measured difference of the course has.
    """
    value, low, high = interval
    for suffix, number in (("", value), ("_ci_low", low), ("_ci_high", high)):
        glue(key + suffix, number)
    glue(f"{key}_verdict", noise_verdict(low, high))
    return interval
