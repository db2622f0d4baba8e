"""Lecture slides from the notebooks (`vae-lesson slides OUT_DIR`).

Each notebook's core path (the sections tagged `core`; `deep_dives=True` keeps the others) becomes one
reveal.js deck, written by nbconvert's slides exporter from the executed notebook:

- the title, and each `## ` section, starts a slide; every other cell is a sub-slide below it;
- a cell that draws a figure becomes a figure slide: the figure as large as the slide allows, its
  "What you should see" line as the caption, and the numbers the cell printed;
- solutions are stubbed as in the students' copies (the handout's rules), and the Colab setup cell is
  left out, so a deck can be shown to the class and handed out.

Every figure is also written as a PNG file of its own (`figures/NN_name-K.png`, at the resolution
the notebook drew it: `vl.setup` asks for figures at twice the screen's density) and listed in
`figures.md` with its caption and printed numbers, for a lecturer's own slides.

reveal.js 4 is loaded from a CDN unless `reveal` names a local copy (a folder or the file that
`npm pack reveal.js@4` writes): it is then copied into the folder, which then works offline.
MathJax is always copied in (from the `site` extra), as for the website.
"""
import base64
import copy
import html
import re
import shutil
import tarfile
import tempfile
from pathlib import Path

from . import handout, site

REVEAL_CDN = "https://unpkg.com/reveal.js@4.6.1"
REVEAL_DIR = "reveal.js"
SEE = re.compile(r"^\*\*What you should see[^*]*\*\*.*?(?=\n\s*\n|\Z)", re.M | re.S)
WIDTH, HEIGHT = 1280, 720  # a 16:9 projector

TEMPLATE = r"""{%- extends 'reveal/index.html.j2' -%}
{#- reveal.js and its notes plugin as plain scripts: no require.js, jQuery or mermaid from the network -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], webFont: "STIX-Web", imageFont: null},
  displayAlign: "center", messageStyle: "none"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
<style>
.reveal .slides > section > section { height: 100%; overflow-y: auto; }
.reveal .celltag_vl-figure img { max-width: 100%; max-height: 520px; width: auto; height: auto; }
.reveal .celltag_vl-figure pre { font-size: 15px; }
</style>
{%- endblock html_head_js_mathjax -%}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
Reveal.initialize({controls: true, progress: true, history: true, slideNumber: "c/t",
                   transition: "none", width: {{ resources.reveal.width }}, height: {{ resources.reveal.height }},
                   plugins: [RevealNotes]});
Reveal.on("slidechanged", function (event) {  // MathJax 2 measures formulas on a slide when it is shown
  if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Rerender", MathJax.Hub, event.currentSlide]); }
});
</script>
{% endblock footer_js %}
"""


class SlidesError(RuntimeError):
    """The slides cannot be written; the message says what to do."""


def _source(cell):
    return handout._source(cell)


def _images(cell):
    return [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def _printed(cell):
    """The text a code cell printed (streams and plain-text results), without its figures."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append("".join(out["text"]) if isinstance(out["text"], list) else out["text"])
        elif out.get("output_type") == "execute_result" and "image/png" not in out.get("data", {}):
            text = out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "".join(parts).strip()


def caption(cells, index):
    """The "What you should see" paragraph of the first Markdown cell after code cell `index`, before the
    next code cell; (text, cell index) or (None, None)."""
    for j in range(index + 1, len(cells)):
        if cells[j]["cell_type"] == "code":
            break
        found = SEE.search(_source(cells[j]))
        if found:
            return found.group(0).strip(), j
    return None, None


def deck(nb, name="notebook", deep_dives=False):
    """The notebook `nb` (executed, solutions already stubbed) with slide metadata, ready for nbconvert's
    slides exporter, and the list of its figures as dicts (cell, png bytes, caption, printed)."""
    import nbformat

    nb = copy.deepcopy(nb) if deep_dives else handout.core_notebook(nb, name)
    nb = nbformat.from_dict(nb)
    heads = {i for i, cell in enumerate(nb.cells) if handout._heading(cell)}
    cells, figures, moved = [], [], set()
    for i, cell in enumerate(nb.cells):
        if site.SETUP_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        source = _source(cell)
        if i in moved:  # its "What you should see" line went to the figure's slide
            source = SEE.sub("", source).strip()
            cell.source = source
            if not source:
                continue
        first = not cells
        kind = "slide" if first or i in heads else "subslide"
        cell.metadata["slideshow"] = {"slide_type": kind}
        cells.append(cell)
        if cell.cell_type == "code" and _images(cell):
            text, j = caption(nb.cells, i)
            if j is not None:
                moved.add(j)
            printed = _printed(cell)
            for k, out in enumerate(_images(cell)):
                figures.append({"cell": i, "png": base64.b64decode(out["data"]["image/png"]),
                                "caption": text or "", "printed": printed})
            cell.metadata.setdefault("transient", {})["remove_source"] = True  # the figure, not the code
            cell.metadata.setdefault("tags", []).append("vl-figure")
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text, metadata={"slideshow": {"slide_type": "-"}}))
    nb.cells = cells
    return nb, figures


def _reveal_copy(reveal, out_dir):
    """Copy reveal.js 4 (a folder holding dist/ and plugin/, or the .tgz of `npm pack reveal.js@4`)
    into out_dir/reveal.js."""
    reveal = Path(reveal)
    with tempfile.TemporaryDirectory() as tmp:
        if reveal.is_file():
            with tarfile.open(reveal) as tar:
                tar.extractall(tmp, filter="data")
            reveal = next((p.parent.parent for p in Path(tmp).rglob("dist/reveal.js")), reveal)
        if not (reveal / "dist" / "reveal.js").is_file() or not (reveal / "plugin" / "notes" / "notes.js").is_file():
            raise SlidesError(f"{reveal} holds no reveal.js 4 (dist/reveal.js, plugin/notes/notes.js): "
                              f"`npm pack reveal.js@4` writes one, or leave --reveal out to load it from {REVEAL_CDN}")
        for part in ("dist", "plugin"):
            shutil.copytree(reveal / part, out_dir / REVEAL_DIR / part)


def _exporter(reveal_prefix):
    import jinja2
    from nbconvert import SlidesExporter

    return SlidesExporter(template_file="vl_slides.html.j2",
                          extra_loaders=[jinja2.DictLoader({"vl_slides.html.j2": TEMPLATE})],
                          reveal_url_prefix=reveal_prefix, reveal_theme="white", reveal_width=str(WIDTH), reveal_height=str(HEIGHT),
                          mathjax_url=f"{site.MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe")


def build(out_dir, notebooks=None, executed=None, deep_dives=False, reveal=None, timeout=1800, env=None, log=print):
    """Write one deck per notebook (NN_name.slides.html), figures/ and figures.md, index.html and
    mathjax/ into out_dir. Returns [{name, deck, title, slides, figures}]."""
    import json

    import nbformat

    notebooks = [Path(p) for p in (notebooks if notebooks is not None else handout.notebooks())]
    if not notebooks:
        raise SlidesError("no notebooks to make slides of")
    mathjax = site.mathjax_source()
    out_dir = Path(out_dir)
    staging = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "figures").mkdir(parents=True)
    shutil.copytree(mathjax, staging / site.MATHJAX_DIR)
    prefix = REVEAL_CDN
    if reveal:
        _reveal_copy(reveal, staging)
        prefix = REVEAL_DIR
    exporter = _exporter(prefix)
    decks, listing = [], ["# Figures of the series\n\n",
                          "Each figure as the notebook drew it, with its caption and the numbers its cell printed.\n"]
    for k, path in enumerate(notebooks, 1):
        if executed is not None:
            nb = site.executed_copy(path, executed)
            log(f"[{k}/{len(notebooks)}] {path.name}: the copy the tests executed")
        else:
            log(f"[{k}/{len(notebooks)}] executing {path.name} ...")
            nb = site.execute(path, timeout=timeout, env=env)
        lecturer = json.loads(nbformat.writes(nb))
        try:
            nb = handout.student_view(nb, handout.student_notebook(lecturer, path.name), path.name)
            nb, figures = deck(nb, path.name, deep_dives)
        except handout.HandoutError as err:
            raise SlidesError(str(err)) from None
        title = site.title(nb, path.stem)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
        body = body.replace(site.REMOTE_BADGE, site.BADGE_FILE)  # the badge drawn locally, as on the website
        name = f"{path.stem}.slides.html"
        (staging / name).write_text(body, encoding="utf-8")
        listing.append(f"\n## {title}\n\nDeck: [{name}]({name})\n")
        for n, figure in enumerate(figures, 1):
            png = f"figures/{path.stem}-{n}.png"
            (staging / png).write_bytes(figure["png"])
            listing.append(f"\n![{path.stem}, figure {n}]({png})\n\n{figure['caption'] or '(no caption)'}\n")
            if figure["printed"]:
                listing.append("\n```\n" + figure["printed"] + "\n```\n")
        slides = sum(1 for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "slide")
        decks.append({"name": path.name, "deck": name, "title": title, "slides": slides, "figures": len(figures)})
    (staging / site.BADGE_FILE).write_text(site.BADGE_SVG, encoding="utf-8")
    (staging / "figures.md").write_text("".join(listing), encoding="utf-8")
    items = "\n".join(f'<li><a class="vl-deck" href="{d["deck"]}">{html.escape(d["title"])}</a> '
                      f'({d["slides"]} slides, {d["figures"]} figures)</li>' for d in decks)
    (staging / "index.html").write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Slides</title></head>\n'
        f'<body><h1>Slides</h1>\n<ol>\n{items}\n</ol>\n<p>Keys: arrows move, <kbd>S</kbd> opens the speaker '
        f'view, <kbd>F</kbd> full screen. Each figure alone: <a href="figures.md">figures.md</a>.</p>\n'
        f'</body></html>\n', encoding="utf-8")
    (staging / "decks.json").write_text(json.dumps(decks, indent=1), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return decks
