"""The series as a static website (`vae-lesson site OUT_DIR`).

Each notebook is executed on a fresh kernel (nbclient; any failing cell stops the build, naming the
notebook and the cell) and converted to one HTML page with nbconvert's JupyterLab template, so a page
looks as the notebook does in JupyterLab: figures (as embedded PNG), printed numbers, math. An index
page holds the README's table of notebooks and its "Questions this series answers" table. Every
link is relative and MathJax is copied into the folder, so the site works offline, from any static
host and from disk (file://). Needs the `site` extra: `pip install -e ".[site]"`.
"""
import html
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout: vae_lesson/tools/site.py is two folders down
NOTEBOOKS = ROOT / "notebooks"
README = ROOT / "README.md"
# Used when a notebook's first cell has no REPO_URL = "https://github.com/OWNER/NAME".
DEFAULT_REPO_URL = "https://github.com/vae-lesson/vae-lesson"
BRANCH = "main"
MATHJAX_DIR = "mathjax"
INDEX_SECTIONS = ("The notebooks, in order", "Questions this series answers")
# The repository's documents the index links to: each becomes a page of its own (NAME.html).
DOCS = ("CLAIMS.md", "DEVELOPING.md")


class SiteError(RuntimeError):
    """The site cannot be built (a failing cell, a missing tool); the message says what to do."""


def _source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


# --- the parts of a page -------------------------------------------------------------------------

def repo_url(nb):
    """The repository's address: REPO_URL in the notebook's first code cell, else DEFAULT_REPO_URL."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            found = re.search(r"""^REPO_URL\s*=\s*["']([^"']+)["']""", _source(cell), re.M)
            return found.group(1).rstrip("/") if found else DEFAULT_REPO_URL
    return DEFAULT_REPO_URL


def repo_ref(nb):
    """The branch or tag the notebook installs from: REF in its first code cell, else BRANCH."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            found = re.search(r"""^REF\s*=\s*["']([^"']+)["']""", _source(cell), re.M)
            return found.group(1) if found else BRANCH
    return BRANCH


def colab_url(repo, notebook_name, branch=BRANCH):
    """Colab's address for a notebook of a GitHub repository (None for another host)."""
    found = re.fullmatch(r"https?://github\.com/([^/]+)/([^/]+?)(?:\.git)?", repo)
    if not found:
        return None
    owner, name = found.groups()
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/notebooks/{notebook_name}"


def title(nb, fallback):
    """The first Markdown heading of the notebook."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found = re.search(r"^#\s+(.+)$", _source(cell), re.M)
            if found:
                return found.group(1).strip()
    return fallback


def page_name(notebook_name):
    return Path(notebook_name).with_suffix(".html").name


# The notebooks' and README's "Open in Colab" badges load an image from colab.research.google.com;
# the site serves its own drawing instead, so that nothing is fetched from the network.
REMOTE_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_FILE = "colab-badge.svg"
BADGE_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="117" height="20" role="img" aria-label="Open in Colab">
<rect width="117" height="20" rx="3" fill="#555"/><rect x="0" width="20" height="20" rx="3" fill="#f9ab00"/>
<text x="68" y="14" fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">Open in Colab</text>
</svg>
"""


def relink(text):
    """Links to the series' notebooks (`notebooks/05_x.ipynb#part`, `05_x.ipynb`) become links to
    their pages (`05_x.html#part`), links to the documents in DOCS to theirs (`CLAIMS.html`); the Colab
    badge's image becomes the site's own copy."""
    text = text.replace(REMOTE_BADGE, BADGE_FILE)
    text = re.sub(r'href="(?:\.{0,2}/)?(' + "|".join(re.escape(d[:-3]) for d in DOCS) + r')\.md(#[^"]*)?"',
                  lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', text)
    return re.sub(r'href="(?:\.{0,2}/?notebooks/)?(\d\d_[A-Za-z0-9_]+)\.ipynb(#[^"]*)?"',
                  lambda m: f'href="{m.group(1)}.html{m.group(2) or ""}"', text)


def doc_page(text, title):
    """A page of the site for one of the repository's Markdown documents (DOCS), linked from the index."""
    return DOC_TEMPLATE.format(title=html.escape(title), css=CSS, body=relink(markdown(text)),
                               mathjax=f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe")


def readme_sections(readme_text, headings=INDEX_SECTIONS):
    """{heading: markdown text} of the README's `## heading` sections, and the README's title and
    first paragraph under "" (the intro)."""
    parts = re.split(r"^##\s+(.+?)\s*$", readme_text, flags=re.M)
    head = parts[0]
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = [h for h in headings if h not in sections]
    if missing:
        raise SiteError(f"README.md has no section(s) {missing}: the index page shows them")
    found = re.search(r"^#\s+(.+)$", head, re.M)
    intro = head[found.end():].strip() if found else head.strip()
    return {"": intro, "title": found.group(1).strip() if found else "Notebooks",
            **{h: sections[h] for h in headings}}


def markdown(text):
    """Markdown to HTML as nbconvert renders a notebook's Markdown cells ($math$ kept for MathJax)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(text)


CSS = """
.vl-nav { display: flex; flex-wrap: wrap; gap: 0.5em 1.5em; align-items: center; font-family: system-ui, sans-serif;
  font-size: 15px; padding: 0.6em 0; margin: 0 0 1em; border-bottom: 1px solid #ddd; }
.vl-nav.vl-bottom { border-bottom: none; border-top: 1px solid #ddd; margin: 2em 0 0; }
.vl-nav a { text-decoration: none; color: #1a5fb4; }
.vl-nav .vl-spacer { flex: 1; }
.vl-badge { display: inline-block; padding: 0.15em 0.6em; border-radius: 4px; background: #f9ab00; color: #222 !important;
  font-weight: 600; font-size: 13px; }
.vl-index { max-width: 1000px; margin: 0 auto; padding: 1em 2em 3em; font-family: system-ui, sans-serif; line-height: 1.5; }
.vl-index table { border-collapse: collapse; margin: 1em 0; }
.vl-index th, .vl-index td { border: 1px solid #ccc; padding: 0.35em 0.7em; vertical-align: top; text-align: left; }
.vl-index th { background: #f3f3f3; }
"""


def nav(pages, i, where):
    """The bar above and below a page: previous, index, next, and the Colab badge."""
    page = pages[i]
    parts = []
    if i > 0:
        parts.append(f'<a class="vl-prev" rel="prev" href="{pages[i - 1]["page"]}">&larr; '
                     f'{html.escape(pages[i - 1]["title"])}</a>')
    parts.append('<a class="vl-home" href="index.html">All notebooks</a>')
    if i + 1 < len(pages):
        parts.append(f'<a class="vl-next" rel="next" href="{pages[i + 1]["page"]}">'
                     f'{html.escape(pages[i + 1]["title"])} &rarr;</a>')
    parts.append('<span class="vl-spacer"></span>')
    if page["colab"]:
        parts.append(f'<a class="vl-badge vl-colab" href="{html.escape(page["colab"])}" '
                     f'title="Open this notebook in Google Colab">Open in Colab</a>')
    return f'<nav class="vl-nav vl-{where}">{" ".join(parts)}</nav>'


PAGE_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{#- no scripts from the network: require.js, widget and mermaid loaders are not needed by static pages -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  tex2jax: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
            processEscapes: true, processEnvironments: true},
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  "HTML-CSS": {availableFonts: [], webFont: "STIX-Web", imageFont: null},
  displayAlign: "center", messageStyle: "none"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- endblock html_head_js_mathjax -%}
{% block extra_css %}<style>{{ resources.vl_css }}</style>{% endblock extra_css %}
{%- block body_header -%}
{{ super() }}
{{ resources.vl_nav_top }}
{%- endblock body_header -%}
{% block body_footer %}
{{ resources.vl_nav_bottom }}
{{ super() }}
{% endblock body_footer %}
"""

DOC_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true}},
  "HTML-CSS": {{availableFonts: [], webFont: "STIX-Web", imageFont: null}}, messageStyle: "none"}});
</script>
<script src="{mathjax}"></script>
<style>{css}</style>
</head>
<body>
<main class="vl-index">
<p><a class="vl-home" href="index.html">&larr; the series</a></p>
{body}
</main>
</body>
</html>
"""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true}},
  "HTML-CSS": {{availableFonts: [], webFont: "STIX-Web", imageFont: null}}, messageStyle: "none"}});
</script>
<script src="{mathjax}"></script>
<style>{css}</style>
</head>
<body>
<main class="vl-index">
<h1>{title}</h1>
{intro}
<h2 id="notebooks">The notebooks, in order</h2>
{notebooks}
<h2 id="questions">Questions this series answers</h2>
{questions}
<p class="vl-built">Built {built} in {mode} mode on the {dataset} data set. Each page shows a notebook as it ran:
its figures, the numbers it printed, and the checks it passed.</p>
</main>
</body>
</html>
"""


# --- executing and converting --------------------------------------------------------------------

def kernel_env(extra=None):
    """The environment of the kernels that execute the notebooks: this one, with widgets drawn as
    static figures, a failed claim raising (vae_lesson/claims.py), and matplotlib's inline backend (a backend like Agg, set for tests, would draw no
    figure on the page)."""
    env = dict(os.environ)
    env["VAE_LESSON_STATIC"] = "1"
    env["VAE_LESSON_CLAIMS"] = "raise"  # a claim that no longer holds stops the build
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.update(extra or {})
    return env


def execute(path, timeout=1800, env=None):
    """Execute the notebook at `path` on a fresh kernel, in its own folder. A failing cell raises
    SiteError naming the notebook, the cell and the error."""
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                     store_widget_state=False,
                                     resources={"metadata": {"path": str(Path(path).parent)}})
    try:
        client.execute(env=kernel_env(env))
    except CellExecutionError as err:
        index = next((i for i, c in enumerate(nb.cells)
                      if any(o.get("output_type") == "error" for o in c.get("outputs", []))), "?")
        raise SiteError(f"{Path(path).name}, cell {index} failed, so the site is not built:\n"
                        f"{err.ename}: {err.evalue}") from None
    # nbclient lets a cell tagged `raises-exception` fail: the site shows no error output at all
    _refuse_errors(nb, Path(path).name)
    return nb


def _refuse_errors(nb, name):
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise SiteError(f"{name}, cell {i} shows an error ({out.get('ename')}): the site is not built")


def executed_copy(path, folder):
    """The copy of the notebook at `path` that a test run executed and saved into `folder`
    (VAE_LESSON_EXECUTED_DIR=folder pytest notebooks --nbval-lax; see vae_lesson/tools/executed.py).
    Refuses a missing copy, and a copy whose cells differ from the notebook as it is now."""
    import nbformat

    path, copy = Path(path), Path(folder) / Path(path).name
    if not copy.is_file():
        raise SiteError(f"no executed copy of {path.name} in {folder}: run `VAE_LESSON_EXECUTED_DIR={folder} "
                        f"pytest notebooks --nbval-lax --nbval-current-env` first (a notebook with a failing "
                        f"cell is not saved)")
    nb, now = nbformat.read(copy, as_version=4), nbformat.read(path, as_version=4)
    if [(c.cell_type, c.source) for c in nb.cells] != [(c.cell_type, c.source) for c in now.cells]:
        raise SiteError(f"{copy} was executed from another version of {path.name}: run the tests again")
    _refuse_errors(nb, path.name)
    return nb


SETUP_TAG = "setup"  # the Colab setup cell: it does nothing outside Colab, and a page is read, not run


def without_setup(nb):
    """A copy of the notebook without its setup cell, so that a page starts with its title."""
    import copy

    page = copy.deepcopy(nb)
    page.cells = [c for c in page.cells if SETUP_TAG not in c.get("metadata", {}).get("tags", [])]
    return page


def _exporter():
    import jinja2
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", template_file="vl_page.html.j2",
                        extra_loaders=[jinja2.DictLoader({"vl_page.html.j2": PAGE_TEMPLATE})],
                        mathjax_url=f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe")


def mathjax_source():
    """MathJax 2's files, from the jupyter-server-mathjax package (the `site` extra)."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        raise SiteError("the site needs MathJax from the jupyter-server-mathjax package: "
                        "pip install -e \".[site]\"") from None
    folder = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (folder / "MathJax.js").is_file():
        raise SiteError(f"no MathJax.js in {folder}: reinstall jupyter-server-mathjax")
    return folder


def build(out_dir, notebooks=None, readme=README, timeout=1800, env=None, log=print, executed=None,
          student=None, core=False):
    """Execute each notebook (default: the series) and write the site into `out_dir`: index.html,
    one NN_name.html per notebook, mathjax/. Returns the list of pages as dicts (name, page, title,
    colab, seconds). Raises SiteError if a cell fails (nothing half-built is left as the site).
    executed: a folder of the copies a test run executed (see executed_copy): the pages show them,
    and nothing is executed again (seconds is then None).
    student: a students' repository written by `vae-lesson handout` (handout.write_student_tree): the
    pages show its copies of the notebooks (solutions stubbed, without the outputs of the exercises and
    their checks), its README and its Colab links; the lecturer's notebooks are what is executed.
    core: each page shows the notebook's core path (handout.core_notebook: the deep-dive sections left out)."""
    from .. import config
    from . import handout

    if student is not None:
        student = Path(student)
        readme = student / "README.md"
        if not readme.is_file() or not (student / "notebooks").is_dir():
            raise SiteError(f"{student} is not a students' repository (no README.md and notebooks/): "
                            f"write one with `vae-lesson handout {student}`")

    notebooks = [Path(p) for p in (notebooks if notebooks is not None
                                   else sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))]
    if not notebooks:
        raise SiteError("no notebooks to build")
    for module in ("nbclient", "nbconvert", "ipykernel"):
        try:
            __import__(module)
        except ImportError:
            raise SiteError(f"the site needs {module}: pip install -e \".[site]\"") from None
    sections = readme_sections(Path(readme).read_text(encoding="utf-8"))
    mathjax = mathjax_source()
    out_dir = Path(out_dir)
    if out_dir.resolve() in (ROOT.resolve(), NOTEBOOKS.resolve()):
        raise SiteError(f"{out_dir} is part of the repository: choose another folder")

    pages, done = [], []
    for k, path in enumerate(notebooks, 1):
        if executed is not None:
            nb, seconds = executed_copy(path, executed), None
            log(f"[{k}/{len(notebooks)}] {path.name}: the copy the tests executed")
        else:
            start = time.perf_counter()
            log(f"[{k}/{len(notebooks)}] executing {path.name} ...")
            nb = execute(path, timeout=timeout, env=env)
            seconds = round(time.perf_counter() - start, 1)
            log(f"[{k}/{len(notebooks)}] {path.name}: {seconds:.0f} s")
        if core:
            import nbformat

            try:
                nb = nbformat.from_dict(handout.core_notebook(nb, path.name))
            except handout.HandoutError as err:
                raise SiteError(str(err)) from None
        if student is not None:
            copy = student / "notebooks" / path.name
            if not copy.is_file():
                raise SiteError(f"{student} has no {copy.name}: write the students' copies again "
                                f"(vae-lesson handout {student})")
            try:
                nb = handout.student_view(nb, json.loads(copy.read_text(encoding="utf-8")), path.name)
            except handout.HandoutError as err:
                raise SiteError(str(err)) from None
        done.append(nb)
        pages.append({"name": path.name, "page": page_name(path.name), "title": title(nb, path.stem),
                      "colab": colab_url(repo_url(nb), path.name, repo_ref(nb)), "seconds": seconds})

    staging = out_dir.with_name(out_dir.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    shutil.copytree(mathjax, staging / MATHJAX_DIR)
    (staging / BADGE_FILE).write_text(BADGE_SVG, encoding="utf-8")
    exporter = _exporter()
    for i, (page, nb) in enumerate(zip(pages, done)):
        body, _ = exporter.from_notebook_node(without_setup(nb), resources={
            "metadata": {"name": page["title"]}, "vl_css": CSS,
            "vl_nav_top": nav(pages, i, "top"), "vl_nav_bottom": nav(pages, i, "bottom")})
        (staging / page["page"]).write_text(relink(body), encoding="utf-8")

    index = INDEX_TEMPLATE.format(
        title=html.escape(sections["title"]), mathjax=f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe",
        css=CSS, intro=relink(markdown(sections[""])),
        notebooks=relink(markdown(sections["The notebooks, in order"])) + _page_list(pages),
        questions=relink(markdown(sections["Questions this series answers"])),
        built=time.strftime("%Y-%m-%d"), mode=config.by_mode("full", "quick"), dataset=config.dataset_name())
    (staging / "index.html").write_text(index, encoding="utf-8")
    for doc in DOCS:
        source = (student if student is not None else ROOT) / doc
        if source.is_file():
            text = source.read_text(encoding="utf-8")
            (staging / f"{doc[:-3]}.html").write_text(doc_page(text, doc[:-3].title()), encoding="utf-8")
    (staging / "pages.json").write_text(json.dumps(pages, indent=1), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return pages


def _page_list(pages):
    """The built pages with their Colab badges, in reading order (the README's table may lag behind)."""
    items = []
    for page in pages:
        badge = (f' <a class="vl-badge vl-colab" href="{html.escape(page["colab"])}">Open in Colab</a>'
                 if page["colab"] else "")
        items.append(f'<li><a class="vl-page" href="{page["page"]}">{html.escape(page["title"])}</a>{badge}</li>')
    return '<ol class="vl-pages">\n' + "\n".join(items) + "\n</ol>"


def main_log(message):
    print(message, file=sys.stderr, flush=True)
