"""The Colab copies: plain Markdown and HTML only, every number written in, solutions folded."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from utils.reader import colab

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
    assert '<span data-glue="miou" title="computed when the book was built">0.612</span>' in out
    assert ">0.61<" in out and ">square<" in out
    assert 'title="timed on the machine that built the book; running the chapter times yours">3.3<' in out
    assert "[receptive field](https://example.org/book/book/glossary.html#term-receptive-field)" in out
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


def chapter(tmp_path, prose: str, values: dict) -> nbformat.NotebookNode:
    """The Colab copy of a two-cell chapter whose build glued ``values``."""
    source, record = tmp_path / "09_demo.ipynb", tmp_path / "09_demo.glue.json"
    cells = [nbformat.v4.new_code_cell("setup", id="setup"), nbformat.v4.new_markdown_cell("# Demo", id="title"),
             nbformat.v4.new_markdown_cell(prose, id="prose")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source)
    record.write_text(json.dumps({k: {"data": {"text/plain": repr(v)}} for k, v in values.items()}))
    return colab.convert(source, record)


PROSE = "mIoU {glue:text}`miou:.3f`, loss {glue:text}`loss:.2f`, {glue:text}`objects:,` objects, {glue:text}`live_loss_last:.2f`"
BUILT = {"miou": 0.6124, "loss": 0.7949, "objects": 1500, "live_loss_last": 0.79}


def test_a_copy_is_the_same_when_a_number_differs_in_its_last_digit(tmp_path):
    committed = chapter(tmp_path, PROSE, BUILT)
    another_cpu = chapter(tmp_path, PROSE, {**BUILT, "miou": 0.6126, "loss": 0.7951, "objects": 1501})
    assert colab.staleness(committed, another_cpu) == []
    assert colab.staleness(committed, chapter(tmp_path, PROSE, {**BUILT, "live_loss_last": 0.83})) == []


def test_a_number_that_moved_further_makes_the_copy_stale(tmp_path):
    committed = chapter(tmp_path, PROSE, BUILT)
    [reason] = colab.staleness(committed, chapter(tmp_path, PROSE, {**BUILT, "miou": 0.615}))
    assert reason.startswith("miou: '0.612' in the copy, '0.615' in this build"), reason
    assert colab.staleness(committed, chapter(tmp_path, PROSE, {**BUILT, "objects": 1503})) != []


def test_changed_prose_makes_the_copy_stale(tmp_path):
    committed = chapter(tmp_path, PROSE, BUILT)
    assert colab.staleness(committed, chapter(tmp_path, PROSE.replace("mIoU", "Mean IoU"), BUILT)) == ["cell 2 differs"]


def test_a_glue_key_the_chapter_no_longer_defines_makes_the_copy_stale(tmp_path):
    committed = chapter(tmp_path, PROSE + " and {glue:text}`retired`", {**BUILT, "retired": 3})
    reasons = colab.staleness(committed, chapter(tmp_path, PROSE, BUILT))
    assert reasons[0] == "glue key(s) retired in the copy, not in the chapter", reasons


def test_prose_that_shows_an_unglued_key_is_refused(tmp_path):
    with pytest.raises(ValueError, match="glue key 'gone'"):
        chapter(tmp_path, "{glue:text}`gone:.2f`", BUILT)


def test_printed_numbers_know_their_last_digit():
    units = {m.group(0): colab.last_digit_unit(m) for m in colab._NUMBER.finditer("0.79 1.5e-08 1,500 +0.079 12.5%")}
    assert units == pytest.approx({"0.79": 0.01, "1.5e-08": 1e-9, "1,500": 1, "+0.079": 0.001, "12.5": 0.1})
    assert colab.values_agree("[0.61, 0.70]", "[0.62, 0.70]") and not colab.values_agree("0.61", "0.63")
    assert not colab.values_agree("outside the noise", "inside the noise")


def test_glossary_links_keep_the_terms_case_as_the_builds_anchors_do():
    out = colab.convert_markdown("{term}`mIoU` and {term}`AP <mask AP>`", {}, {}, URL)
    assert "glossary.html#term-mIoU)" in out and "glossary.html#term-mask-AP)" in out


def test_a_copy_shows_no_test_scaffolding_and_folds_what_the_book_hides(tmp_path):
    source, record = tmp_path / "09_demo.ipynb", tmp_path / "09_demo.glue.json"
    checked = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)", id="checked")
    checked.outputs = [nbformat.v4.new_output("stream", text="1\n"),
                       nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": "1"})]
    hidden = nbformat.v4.new_code_cell("assert mine == theirs", id="hidden", metadata={"tags": ["remove-cell"]})
    cells = [nbformat.v4.new_code_cell("setup", id="setup", metadata={"tags": ["remove-cell"]}),
             nbformat.v4.new_markdown_cell("# Demo", id="title"), checked, hidden]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source)
    record.write_text("{}")
    copy = colab.convert(source, record)
    assert copy.cells[2].source == "print(1)" and [o.output_type for o in copy.cells[2].outputs] == ["stream"]
    assert copy.cells[3].source.startswith("#@title Check:") and copy.cells[3].metadata["cellView"] == "form"
    assert copy.cells[0].source.startswith("#@title Set-up:")
