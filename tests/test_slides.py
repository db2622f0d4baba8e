"""`vae-lesson slides`: one reveal.js deck per notebook's core path, each figure on a slide of its own
with its caption, solutions stubbed; opened in headless Chromium, where reveal.js starts, every figure
loads and the math is typeset.

Which decks: $VAE_LESSON_SLIDES_DIR, the series' decks (CI writes them from the notebooks its tests
executed, with a local reveal.js); without it, a small tagged notebook's deck written here. The browser
tests need a local reveal.js 4 ($VAE_LESSON_REVEAL: the .tgz of `npm pack reveal.js@4`, or its folder;
CI sets it), Chromium and the `playwright` package; the other tests need the `site` extra."""
import html
import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

from vae_lesson.tools import handout

pytest.importorskip("jupyter_server_mathjax", reason="the slides need the `site` extra")
from vae_lesson.tools import slides  # noqa: E402

SERIES = os.environ.get("VAE_LESSON_SLIDES_DIR")
REVEAL = os.environ.get("VAE_LESSON_REVEAL")
CHROMIUM = os.environ.get("VAE_LESSON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

CELLS = [
    ("markdown", [], "# 00 · Small\n\n*Time: about 10 minutes*\n\nThe curve $y = \\sin x$."),
    ("code", ["setup"], 'REPO_URL = "https://github.com/someone/small"'),
    ("markdown", ["core"], "## 1. A figure\n\nThe display $$\\int_0^\\pi \\sin x \\, dx = 2.$$"),
    ("code", [], "import matplotlib.pyplot as plt\nimport numpy as np\nimport vae_lesson as vl\nvl.plots.sharp_figures()\n"
                 "x = np.linspace(0, 6, 50)\nplt.plot(x, np.sin(x))\nplt.show()\nprint(f'largest value {np.sin(x).max():.3f}')"),
    ("markdown", [], "**What you should see:** one arch of a sine curve, then a dip.\n\nMore text after it."),
    ("code", [], "### BEGIN SOLUTION\nanswer_of_the_exercise = 41 + 1\n### END SOLUTION"),
    ("code", [], "print('checked' if answer_of_the_exercise == 42 else 'not yet')"),
    ("markdown", ["deep-dive"], "## 2. A deep dive\n\nOnly for the curious."),
    ("code", [], "print('deep')"),
]


def _write(path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, tags, source in CELLS:
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(source, metadata={"tags": tags} if tags else {}))
    path.write_text(nbformat.writes(nb))
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slides")
    notebook = _write(folder / "00_small.ipynb")
    out = folder / "out"
    decks = slides.build(out, notebooks=[notebook], reveal=REVEAL, timeout=120, log=lambda m: None)
    return out, decks


def _text(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_a_deck_has_a_slide_per_core_section_and_a_figure_slide_with_its_caption(small):
    out, decks = small
    assert decks == [{"name": "00_small.ipynb", "deck": "00_small.slides.html", "title": "00 · Small",
                      "slides": 2, "figures": 1}]
    page = (out / "00_small.slides.html").read_text(encoding="utf-8")
    text = _text(page)
    assert "A figure" in text and "Only for the curious" not in text, "deep-dive sections are left out"
    assert "answer_of_the_exercise = 41 + 1" not in text and handout.YOUR_CODE in text, "solutions stubbed"
    assert "REPO_URL" not in text, "the setup cell is left out"
    figure = re.search(r'<section[^>]*>(?:(?!</section>).)*?celltag_vl-figure(?:(?!</section>).)*</section>', page, re.S)
    assert figure, "the figure has a slide of its own"
    assert "one arch of a sine curve" in figure.group(0) and "largest value 1.000" in _text(figure.group(0))
    assert "np.linspace" not in _text(figure.group(0)), "a figure slide shows the figure, not the code"
    assert "More text after it" in text and text.count("one arch of a sine curve") == 1
    png = out / "figures" / "00_small-1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    listing = (out / "figures.md").read_text(encoding="utf-8")
    assert "figures/00_small-1.png" in listing and "one arch of a sine curve" in listing and "largest value" in listing


def test_sharp_figures_are_drawn_at_twice_the_density(small):
    from PIL import Image

    out, _ = small
    width, height = Image.open(out / "figures" / "00_small-1.png").size
    page = (out / "00_small.slides.html").read_text(encoding="utf-8")
    shown = re.search(r'<img[^>]*src="data:image/png[^"]*"[^>]*width="?(\d+)', page)
    assert shown, "the figure carries the width it is shown at (IPython's retina format)"
    assert width >= 1.9 * int(shown.group(1))


def test_deep_dives_are_kept_when_asked(tmp_path):
    notebook = _write(tmp_path / "00_small.ipynb")
    decks = slides.build(tmp_path / "out", notebooks=[notebook], deep_dives=True, timeout=120, log=lambda m: None)
    assert decks[0]["slides"] == 3
    assert "Only for the curious" in (tmp_path / "out" / "00_small.slides.html").read_text(encoding="utf-8")


def test_a_folder_without_reveal_js_is_refused(tmp_path):
    notebook = _write(tmp_path / "00_small.ipynb")
    with pytest.raises(slides.SlidesError, match="npm pack reveal.js@4"):
        slides.build(tmp_path / "out", notebooks=[notebook], reveal=tmp_path, timeout=120, log=lambda m: None)


def test_the_series_decks_follow_the_core_path_without_solutions():
    """The decks CI writes from the notebooks its tests executed (`vae-lesson slides DIR --executed ...`)."""
    if not SERIES:
        pytest.skip("set VAE_LESSON_SLIDES_DIR to the series' slides (CI does)")
    folder = Path(SERIES)
    decks = {d["name"]: d for d in json.loads((folder / "decks.json").read_text())}
    assert sorted(decks) == [p.name for p in handout.notebooks()]
    for path in handout.notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        sections = handout.section_tags(nb, path.name)
        page = (folder / decks[path.name]["deck"]).read_text(encoding="utf-8")
        plain = lambda text: " ".join(re.sub(r"[`*¶]", "", text).split())  # Markdown's marks as rendered or not
        headings = [plain(_text(h)) for h in re.findall(r"<h2[^>]*>.*?</h2>", page, re.S)]
        assert headings == [plain(h) for _, h, tag in sections if tag == handout.CORE], path.name
        assert decks[path.name]["slides"] == 1 + len(headings)
        leaked = [line for line in handout.solution_lines(nb) if line in _text(page)]
        assert not leaked, f"{path.name}'s deck shows solution text: {leaked[:3]}"
    assert sum(d["figures"] for d in decks.values()) >= len(decks)


# --- in a browser --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="no playwright: pip install -e '.[site]'")
    if not CHROMIUM:
        pytest.skip("no Chromium: apt-get install chromium (or set VAE_LESSON_CHROMIUM to its path)")
    if not REVEAL and not SERIES:
        pytest.skip("set VAE_LESSON_REVEAL to a local reveal.js 4 (npm pack reveal.js@4; CI does)")
    from test_site_browser import ARGS

    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _decks(small):
    if SERIES:
        folder = Path(SERIES)
        return folder, json.loads((folder / "decks.json").read_text())
    return small


def test_each_deck_runs_in_a_browser_with_its_figures_and_math_offline(browser, small):
    folder, decks = _decks(small)
    assert (folder / slides.REVEAL_DIR / "dist" / "reveal.js").is_file(), "a local reveal.js was copied in"
    context = browser.new_context(viewport={"width": slides.WIDTH, "height": slides.HEIGHT})
    tab = context.new_page()
    outside, errors = [], []
    tab.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).scheme in ("file", "data", "blob")
              else (outside.append(r.request.url), r.abort()))
    tab.on("pageerror", lambda err: errors.append(str(err)))
    for deck in decks:
        tab.goto((folder / deck["deck"]).resolve().as_uri())
        tab.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
        assert tab.evaluate("Reveal.getHorizontalSlides().length") == deck["slides"], deck["deck"]
        tab.wait_for_function("() => window.MathJax && MathJax.isReady", timeout=60_000)
        tab.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
        formulas, typeset = tab.evaluate("""() => {
            const scripts = Array.from(document.querySelectorAll('script[type^="math/tex"]'));
            return [scripts.length, scripts.filter(s => MathJax.Hub.getJaxFor(s)).length];
        }""")
        assert formulas > 0 and typeset == formulas, f"{deck['deck']}: {formulas - typeset} formulas not typeset"
        shown = 0
        for h, v in tab.evaluate("""() => Reveal.getSlides().filter(s => s.querySelector('.celltag_vl-figure img'))
                                      .map(s => [Reveal.getIndices(s).h, Reveal.getIndices(s).v])"""):
            tab.evaluate(f"Reveal.slide({h}, {v})")
            box = tab.evaluate("""() => { const img = Reveal.getCurrentSlide().querySelector('.celltag_vl-figure img');
                return [img.complete && img.naturalWidth > 0, img.getBoundingClientRect().width]; }""")
            assert box[0], f"{deck['deck']}, slide {h}/{v}: the figure did not load"
            assert box[1] >= 0.3 * slides.WIDTH, f"{deck['deck']}, slide {h}/{v}: the figure is shown {box[1]:.0f} px wide"
            shown += 1
        assert shown == deck["figures"], f"{deck['deck']}: {shown} figure slides, {deck['figures']} figures"
        tab.evaluate("Reveal.slide(Reveal.getHorizontalSlides().length - 1)")
        assert tab.evaluate("Reveal.isLastSlide() || Reveal.availableRoutes().down")
    context.close()
    assert not outside, f"the slides fetched from the network: {outside[:5]}"
    assert not errors, f"script errors: {errors[:5]}"
