"""The Colab copies: plain Markdown and HTML only, every number written in, solutions folded."""

import json
import re
from pathlib import Path

import pytest

from utils import colab

ROOT = Path(__file__).resolve().parents[1]
MYST = re.compile(r"\{(glue:text|glue|cite|term|doc|ref|numref)\}`|^`{3,}\{", re.M)
URL = "https://example.org/book/"


def test_roles_and_dropdowns_become_markdown_and_html():
    text = """Mean {glue:text}`miou:.3f` in {glue:text}`fcn_speedup_64:.1f`x; {glue:text}`name`; see
{cite}`long2015fcn,ciresan2012neuronal`, a {term}`receptive field` and the {doc}`../book/model_card`
or {doc}`chapter 5 <05_upsampling_skip_connections>`.

```{admonition} Solution
:class: dropdown
It is {glue:text}`miou:.2f`.
```

````{admonition} Solution
:class: dropdown
```python
x = 1
```
````
"""
    values = {"miou": 0.61234, "name": "square", "fcn_speedup_64": 3.3}
    out = colab.convert_markdown(text, values, colab.bibliography(), URL)
    assert not MYST.search(out), out
    assert ">0.612<" in out and ">0.61<" in out and ">square<" in out
    assert "3.3" not in out and "measured on your machine" in out, "timings depend on the machine"
    assert "[Long et al. 2015](https://example.org/book/book/bibliography.html)" in out
    assert "[Ciresan et al. 2012]" in out
    assert "[receptive field](https://example.org/book/book/glossary.html#term-receptive-field)" in out
    assert "(https://example.org/book/book/model_card.html)" in out
    assert "[chapter 5](https://example.org/book/lectures/05_upsampling_skip_connections.html)" in out
    assert out.count("<details>") == 2 and out.count("</details>") == 2 and "```python" in out


def test_glued_numpy_scalars_are_read_back():
    assert colab.literal("np.float64(0.25)") == 0.25 and colab.literal("'disk'") == "disk"
    assert colab.literal("[0.5, 0.6]") == [0.5, 0.6]


COPIES = sorted((ROOT / "colab" / "lectures").glob("*.ipynb"))


def test_every_chapter_has_a_colab_copy():
    chapters = sorted(p.name for p in (ROOT / "lectures").glob("0*.ipynb"))
    assert [p.name for p in COPIES] == chapters


@pytest.mark.parametrize("path", COPIES, ids=lambda p: p.name)
def test_colab_copies_hold_no_myst(path):
    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            assert not MYST.search(source), f"{path.name}: {source[:80]!r}"
    setup = "".join(cells[0]["source"])
    assert "myst" not in setup, "the Colab set-up installs no book tool chain"
