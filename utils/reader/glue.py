"""``glue(name, value)``: hand a computed number to the book's prose, and nothing else.

When the book is built, myst-nb's ``glue`` records the value so that
``{glue:text}`name``` in the markdown shows it. In a plain Jupyter or Colab
session the record is invisible; where myst-nb is not installed at all (a
fresh Colab runtime needs only what the chapters compute with) nothing
happens, so a chapter never installs Sphinx to run. Used by every chapter;
``glue_interval`` glues a measured difference with its noise scale;
``glue_agreement`` glues what floating-point noise between two computations
of the same thing means, not the noise itself.
"""

from __future__ import annotations

from typing import Any

from ..bootstrap import scene_noise

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

    Defines ``key``, ``key_ci_low``, ``key_ci_high`` and ``key_noise``
    (``inside the noise`` when the interval contains zero, else ``outside the
    noise``), the four names every measured difference of the course has.
    """
    value, low, high = interval
    for suffix, number in (("", value), ("_ci_low", low), ("_ci_high", high)):
        glue(key + suffix, number)
    glue(f"{key}_noise", scene_noise(low, high))
    return interval


def interval_phrase(interval: tuple[float, float, float], unit: str = "mIoU") -> str:
    """A difference in words: ``+0.045 mIoU (95% interval +0.021 to +0.070, outside the noise)``."""
    value, low, high = interval
    return f"{value:+z.3f} {unit} (95% interval {low:+.3f} to {high:+.3f}, {scene_noise(low, high)})"


#: Two float32 computations of the same O(1) numbers in another order agree to about 100 machine epsilons.
AGREEMENT = 1e-5


def glue_agreement(name: str, difference: float, bound: float = AGREEMENT) -> None:
    """Glue that two computations agree: ``name`` shows ``bound`` (``"1e-5"``), which ``difference`` stays below.

    The difference itself is floating-point noise that changes with the CPU
    and the thread count (``2.4e-07`` here, ``0.0e+00`` there); the prose
    says what it means ("equal to within 1e-5"), and the notebook prints the
    difference on the reader's machine. Raises ``ValueError`` when the two
    disagree, so a build in which they drift apart fails.
    """
    if not abs(difference) < bound:
        raise ValueError(f"{name}: the two computations differ by {difference:.1e}, not below {bound:.0e}")
    glue(name, f"{bound:.0e}".replace("e-0", "e-"))
