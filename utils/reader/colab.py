"""Colab copies of the chapters: ``python -m utils.reader.colab [--check] [BUILD]``.

Colab (and plain Jupyter) render Markdown, not MyST: a glued number would
show as ``{glue:text}`key``` and a solution in a dropdown would lie open. The
book build is the one place that knows every number, so after it this tool
writes ``colab/lectures/NN_topic.ipynb`` for every chapter: the same cells,
with the numbers the build computed written in (marked as such; a timing,
which depends on the machine, becomes a pointer to the output that prints
it), citations and glossary terms as links into the published book, page
references as links, and solutions in HTML ``<details>`` blocks that Colab
folds. The book's Colab buttons open these copies (``repository.path_to_book``
in ``_config.yml``). Used by ``make colab`` and ``make test``.

``--check`` asks whether the committed copies are what the chapters' sources
give today, on any machine. Each pasted number is wrapped in a ``<span>`` that
names its glue key, and a committed copy is *the same* as a fresh one when

1. with every pasted value masked, the two are identical: every cell, its
   prose, code and stored outputs, and the glue key behind every pasted value
   (a new cell, changed prose, a glue key added or removed all fail), and
2. each pasted value agrees with this build's: equal text, except that each
   number in it may differ by at most one unit in the last digit shown
   (``0.79`` against ``0.80``; not ``0.612`` against ``0.615``). Floating-point
   results differ between CPUs and thread counts in their last bits, which can
   move a printed number across a rounding boundary and no further; a change
   in the code moves it further. Values in ``LIVE`` come from a model the
   chapter trains while it runs, and values in ``VOLATILE`` are times the
   chapter measures: both depend on the machine beyond their last digit, so
   any number passes there (the copy marks a time as the building machine's).
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import json
import posixpath
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "colab"
#: Glue keys that hold a time the chapter measures, or a ratio of such times: they change from machine to machine
#: and run to run. Times read from the manifest (``train_seconds_*``) are the same everywhere and are not here.
VOLATILE = re.compile(r"(?<!train_)seconds|_cpu_minutes$|_ms$|cost_ratio|time_ratio|_over_maskrcnn|_over_cfm|^proposal_share|^fcn_speedup|per_ms")
#: How a pasted value is marked: computed when the book was built, or timed on the machine that built it.
TITLES = {False: "computed when the book was built",
          True: "timed on the machine that built the book; running the chapter times yours"}
#: Glue keys of a result the chapter trains while it runs (chapter 2's short live training): machine-dependent.
LIVE = re.compile(r"^live_loss_")
#: A pasted value: the glue key it stands for, and the text the build computed.
_PASTED = re.compile(r'(<span data-glue="([^"]+)" title="[^"]*">)(.*?)(</span>)', re.S)
#: A number as Python's formats print it: sign, thousands separators, decimals, exponent.
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.(\d+))?(?:[eE]([-+]?\d+))?")
#: nbval's marker for a cell whose output is compared: test scaffolding a learner need not see.
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
_ROLE = re.compile(r"\{(glue:text|cite|term|doc)\}`([^`]*)`")
_ADMONITION = re.compile(r"^(`{3,})\{admonition\} *(.*?)\n(?::class: *dropdown\n)?(.*?)^\1 *$", re.M | re.S)


def book_url() -> str:
    """The published book's address, from ``_config.yml`` (``html.baseurl``), ending in a slash."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["html"]["baseurl"].rstrip("/") + "/"


def glue_values(record: Path) -> dict[str, object]:
    """Every value a chapter glued in the book build, from myst-nb's ``NN_topic.glue.json``, parsed back."""
    return {key: literal(output["data"]["text/plain"]) for key, output in json.loads(record.read_text()).items()}


def literal(text: str) -> object:
    """A glued value from its repr: numbers, strings and lists of them; NumPy scalars unwrapped."""
    text = re.sub(r"np\.(?:float|int)\d*\((.*?)\)", r"\1", text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def plain(latex: str) -> str:
    """A BibTeX name without its LaTeX accents and braces: ``Cire{\\c{s}}an`` -> ``Ciresan``."""
    text = re.sub(r"\\[a-zA-Z]+\{(\w)\}|\\[\"'`^~](\w)", lambda m: m.group(1) or m.group(2), latex)
    return re.sub(r"[{}]", "", text).strip()


def short_citation(entry: str) -> str:
    """``Author et al. Year`` from one BibTeX entry's text."""
    authors = re.search(r"author\s*=\s*\{(.*?)\},?\s*\n", entry, re.S).group(1)
    year = re.search(r"year\s*=\s*\{?(\d{4})", entry).group(1)
    names = [plain(a.split(",")[0]) for a in re.split(r"\s+and\s+", authors)]
    who = names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."
    return f"{who} {year}"


def bibliography() -> dict[str, str]:
    """``{key: "Author et al. Year"}`` for every entry of ``book/references.bib``."""
    text = (ROOT / "book" / "references.bib").read_text()
    entries = re.split(r"\n(?=@)", "\n" + text)
    return {m.group(1): short_citation(e) for e in entries if (m := re.match(r"\s*@\w+\{([^,]+),", e))}


def glossary_terms() -> dict[str, str]:
    """``{term in lower case: term as the glossary spells it}``: Sphinx matches terms in any case, anchors keep it."""
    text = (ROOT / "book" / "glossary.md").read_text()
    block = text[text.index("```{glossary}"):]
    block = block[block.index("\n") + 1:block.index("\n```")]
    return {line.strip().lower(): line.strip() for line in block.splitlines() if line.strip() and line[0] != " "}


def page_link(target: str, url: str) -> str:
    """A Markdown link to book page ``target`` (a ``{doc}`` path relative to ``lectures/``)."""
    return f"{url}{posixpath.normpath(posixpath.join('lectures', target))}.html"


def replace_role(match: re.Match, values: dict, bib: dict, url: str) -> str:
    kind, content = match.groups()
    if kind == "glue:text":
        key, _, fmt = content.partition(":")
        if key not in values:
            raise ValueError(f"the prose shows glue key {key!r}, which the chapter's code does not glue")
        value = values[key]
        shown = format(value, fmt) if fmt else str(value)
        title = TITLES[bool(VOLATILE.search(key))]
        return f'<span data-glue="{key}" title="{title}">{html.escape(shown)}</span>'
    if kind == "cite":
        keys = [k.strip() for k in content.split(",")]
        return "(" + "; ".join(f"[{bib[k]}]({url}book/bibliography.html)" for k in keys) + ")"
    text, _, target = content.partition(" <")
    target = target.rstrip(">") or text
    if kind == "term":  # Sphinx's glossary anchors keep the glossary's spelling: term-IoU, term-mask-AP
        slug = re.sub(r"[^A-Za-z0-9]+", "-", glossary_terms().get(target.lower(), target)).strip("-")
        return f"[{text}]({url}book/glossary.html#term-{slug})"
    name = text if target != text else Path(target).name.replace("_", " ")
    return f"[{name}]({page_link(target, url)})"


def convert_markdown(text: str, values: dict, bib: dict, url: str) -> str:
    """One Markdown cell with every MyST role and admonition replaced by plain Markdown or HTML."""
    def details(match: re.Match) -> str:
        return f"<details>\n<summary>{match.group(2)}</summary>\n\n{match.group(3).strip()}\n\n</details>"

    text = _ADMONITION.sub(details, text)
    return _ROLE.sub(lambda m: replace_role(m, values, bib, url), text)


def folded_title(cell: nbformat.NotebookNode, index: int) -> str:
    """What a cell the book hides does, as the title Colab shows for it folded."""
    if index == 0:
        return "Set-up: fetch the course and what Colab lacks (run this first)"
    if "assert" in cell.source:
        return "Check: the code above matches the course's utils"
    if "glue" in cell.source:
        return "Numbers for the text (the book pastes them into the prose)"
    return "Bookkeeping the book hides"


def for_colab(cell: nbformat.NotebookNode, index: int) -> None:
    """A code cell as Colab should show it: no test marker, no glue record, folded where the book hides it."""
    cell.source = cell.source.replace(f"{CHECK_MARK}\n", "")
    cell.outputs = [o for o in cell.outputs if o.output_type == "stream"]
    if "remove-cell" in cell.metadata.get("tags", []):
        cell.source = f"#@title {folded_title(cell, index)}\n" + cell.source
        cell.metadata["cellView"] = "form"


def convert(source: Path, record: Path) -> nbformat.NotebookNode:
    """The Colab copy of chapter ``source``, with the numbers the build glued (``record``, a ``.glue.json``)."""
    notebook = nbformat.read(source, as_version=4)
    values, bib, url = glue_values(record), bibliography(), book_url()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            cell.source = convert_markdown(cell.source, values, bib, url)
        else:
            for_colab(cell, index)
    notebook.cells[1].source += (f"\n\n*This is the Colab copy of a chapter of [the book]({url}). Numbers in the "
                                 "text are those the book's build computed; the cells recompute them.*")
    return notebook


def last_digit_unit(number: re.Match) -> float:
    """One unit in the last digit a printed number shows: ``0.79`` -> 0.01, ``1.5e-08`` -> 1e-09, ``1,500`` -> 1."""
    decimals, exponent = number.group(1) or "", int(number.group(2) or 0)
    return 10.0 ** (exponent - len(decimals))


def values_agree(shown: str, fresh: str) -> bool:
    """Two pasted values are the same text, each number within one unit in its last digit shown."""
    if _NUMBER.sub("#", shown) != _NUMBER.sub("#", fresh):
        return False
    for a, b in zip(_NUMBER.finditer(shown), _NUMBER.finditer(fresh)):
        unit = max(last_digit_unit(a), last_digit_unit(b))
        if abs(float(a.group(0).replace(",", "")) - float(b.group(0).replace(",", ""))) > unit * (1 + 1e-9):
            return False
    return True


def masked(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy with every pasted value replaced by ``…`` (its glue key kept)."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        cell.source = _PASTED.sub(lambda m: m.group(1) + "…" + m.group(4), cell.source)
    return notebook


def pasted(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(glue key, value shown)`` for every pasted value of a copy, in order."""
    return [(m.group(2), html.unescape(m.group(3))) for cell in notebook.cells for m in _PASTED.finditer(cell.source)]


def few(names: set[str], shown: int = 4) -> str:
    """Up to ``shown`` of ``names``, sorted, and how many more."""
    ordered = sorted(names)
    return ", ".join(ordered[:shown]) + (f" and {len(ordered) - shown} more" if len(ordered) > shown else "")


def staleness(committed: nbformat.NotebookNode, fresh: nbformat.NotebookNode) -> list[str]:
    """Why a committed copy is not the same as the fresh one (the module's definition); empty if it is."""
    old, new = masked(committed), masked(fresh)
    if old != new:
        keys_old, keys_new = ({key for key, _ in pasted(n)} for n in (committed, fresh))
        reasons = [f"glue key(s) {few(keys_old - keys_new)} in the copy, not in the chapter"] if keys_old - keys_new else []
        reasons += [f"glue key(s) {few(keys_new - keys_old)} in the chapter, not in the copy"] if keys_new - keys_old else []
        if len(old.cells) != len(new.cells):
            reasons.append(f"{len(old.cells)} cells in the copy, {len(new.cells)} in the chapter")
        changed = [i for i, (a, b) in enumerate(zip(old.cells, new.cells)) if a != b]
        return reasons + [f"cell {i} differs" for i in changed[:3]] + (["its metadata differs"] if old.metadata != new.metadata else [])
    return [f"{key}: {shown!r} in the copy, {value!r} in this build (more than one unit in the last digit)"
            for (key, shown), (_, value) in zip(pasted(committed), pasted(fresh))
            if not (LIVE.search(key) or VOLATILE.search(key)) and not values_agree(shown, value)]


def dead_links(notebook: nbformat.NotebookNode, html_dir: Path, url: str) -> list[str]:
    """Every link into the book that names a page or an anchor the build in ``html_dir`` does not have."""
    pages: dict[str, str | None] = {}
    dead = []
    for cell in notebook.cells:
        for link in re.findall(rf"\]\(({re.escape(url)}[^)\s]*)\)", cell.source):
            page, _, anchor = link[len(url):].partition("#")
            page = page or "index.html"
            if page not in pages:
                path = html_dir / page
                pages[page] = path.read_text(encoding="utf-8") if path.is_file() else None
            if pages[page] is None or (anchor and f'id="{anchor}"' not in pages[page]):
                dead.append(link[len(url):])
    return dead


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.reader.colab", description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", type=Path, default=ROOT / "_build",
                        help="the book build whose executed notebooks hold the numbers")
    parser.add_argument("--check", action="store_true", help="fail if the committed copies are stale")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted((ROOT / "lectures").glob("0*.ipynb")):
        record = args.build / "jupyter_execute" / "lectures" / f"{source.stem}.glue.json"
        if not record.exists():
            print(f"error: no glued values of {source.name} under {args.build}; build the book first", file=sys.stderr)
            return 2
        try:
            fresh = convert(source, record)
        except ValueError as err:
            print(f"error: {source.name}: {err}", file=sys.stderr)
            return 2
        target = OUT_DIR / "lectures" / source.name
        if args.check:
            reasons = staleness(nbformat.read(target, as_version=4), fresh) if target.exists() else ["no copy"]
            reasons += [f"link to {link}, which the build lacks" for link in dead_links(fresh, args.build / "html",
                                                                                          book_url())]
            if reasons:
                stale.append(f"{target.relative_to(ROOT).as_posix()} ({'; '.join(reasons)})")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(nbformat.writes(fresh) + "\n")
    if stale:
        print(f"stale Colab copies: {', '.join(stale)}; run `make colab` and commit them", file=sys.stderr)
        return 1
    print("Colab copies " + ("are up to date" if args.check else f"written to {OUT_DIR.relative_to(ROOT)}/"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
