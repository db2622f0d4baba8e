"""The built site in a real browser (headless Chromium through Playwright): served from a local HTTP
server, the index links to every notebook's page; each page shows its figures (loaded images), no
error output, its math typeset by the bundled MathJax, and works from disk (file://) too.

Which site: $VAE_LESSON_SITE_DIR, a site built by `vae-lesson site` (CI builds the series in quick
mode); without it, a small two-notebook site built here. Skipped only when Chromium or the Python
`playwright` package is missing (apt-get install chromium; pip install -e ".[site]")."""
import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from site_fixtures import small_series

CHROMIUM = os.environ.get("VAE_LESSON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
MATH_TIMEOUT_MS = 60_000

sync_api = pytest.importorskip("playwright.sync_api", reason="no playwright: pip install -e '.[site]'")
if not CHROMIUM:
    pytest.skip("no Chromium: apt-get install chromium (or set VAE_LESSON_CHROMIUM to its path)",
                allow_module_level=True)


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory):
    given = os.environ.get("VAE_LESSON_SITE_DIR")
    if given:
        folder = Path(given)
        assert (folder / "index.html").is_file(), f"VAE_LESSON_SITE_DIR={given} holds no built site"
        return folder
    pytest.importorskip("jupyter_server_mathjax", reason="the site needs the `site` extra")
    from vae_lesson.tools import site

    folder = tmp_path_factory.mktemp("series")
    notebooks, readme = small_series(folder)
    site.build(folder / "site", notebooks=notebooks, readme=readme, timeout=120, log=lambda m: None)
    return folder / "site"


@pytest.fixture(scope="module")
def server(site_dir):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site_dir))
    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):  # the browser left a page mid-transfer: fine
            pass

    httpd = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A page that may load only from this machine (the site must need no network), recording
    what it would have fetched from elsewhere and every script error."""
    context = browser.new_context()
    tab = context.new_page()
    tab.outside, tab.errors, tab.missing = [], [], []

    def route(r):
        url = urlparse(r.request.url)
        if url.scheme in ("file", "data", "blob") or url.hostname == "127.0.0.1":
            r.continue_()
        else:
            tab.outside.append(r.request.url)
            r.abort()

    tab.route("**/*", route)
    tab.on("pageerror", lambda err: tab.errors.append(str(err)))
    tab.on("console", lambda msg: tab.errors.append(msg.text) if msg.type == "error" and not _font_probe(msg.text) else None)
    tab.on("response", lambda r: tab.missing.append(r.url) if r.status >= 400 else None)
    yield tab
    context.close()


def _font_probe(text):
    """MathJax 2 probes for fonts: with a font `about:blank` (blocked by Chrome), and a TeX font it
    falls back from when it is missing. Failed loads are checked one by one in _missing."""
    return text.startswith("Access to font at 'about:blank'") or text.startswith("Failed to load resource")


def _missing(tab):
    """Files the page asked for and did not get, other than MathJax's optional fonts."""
    return [url for url in tab.missing if "/mathjax/fonts/" not in url]


def _wait_for_math(tab):
    """Wait until MathJax has typeset the page; returns (formulas found, typeset, TeX errors)."""
    tab.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.isReady", timeout=MATH_TIMEOUT_MS)
    tab.evaluate("() => new Promise(done => MathJax.Hub.Queue(done))")
    return tab.evaluate("""() => {
        const scripts = Array.from(document.querySelectorAll('script[type^="math/tex"]'));
        const typeset = scripts.filter(s => {
            const jax = MathJax.Hub.getJaxFor(s);
            return jax && document.getElementById(jax.inputID + '-Frame');
        });
        return [scripts.length, typeset.length, document.querySelectorAll('.MathJax .merror, .merror').length];
    }""")


def _figures(tab):
    """(number of images in the outputs, number that loaded with a width)."""
    return tab.evaluate("""() => {
        const imgs = Array.from(document.querySelectorAll('.jp-OutputArea-output img'));
        return [imgs.length, imgs.filter(i => i.complete && i.naturalWidth > 0).length];
    }""")


def _error_outputs(tab):
    """The error outputs of the page's cells (a traceback, or a check that printed "not yet")."""
    return tab.evaluate("""() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
        .map(o => o.innerText)
        .filter(t => t.includes('Traceback (most recent call last)') || /^not yet/m.test(t))
        .map(t => t.slice(0, 300))""")


def _first_screen(tab):
    """(is the first cell a Markdown cell, the text of its first heading, does the page show setup code)."""
    return tab.evaluate("""() => {
        const first = document.querySelector('.jp-Cell');
        const h1 = first && first.querySelector('h1');
        return [!!first && first.classList.contains('jp-MarkdownCell'), h1 ? h1.innerText : null,
                document.body.innerText.includes('REPO_URL')];
    }""")


def _check_page(tab, name):
    markdown_first, heading, setup_shown = _first_screen(tab)
    assert markdown_first and heading and heading[:2].isdigit(), \
        f"{name}: the page should open with the notebook's title, not {heading!r}"
    assert not setup_shown, f"{name}: the Colab setup cell is shown on the page"
    images, loaded = _figures(tab)
    assert images > 0, f"{name}: no figure on the page"
    assert loaded == images, f"{name}: {images - loaded} of {images} figures did not load"
    assert not _error_outputs(tab), f"{name}: error output {_error_outputs(tab)}"
    formulas, typeset, errors = _wait_for_math(tab)
    assert formulas > 0, f"{name}: no math on the page for MathJax"
    assert typeset == formulas, f"{name}: {formulas - typeset} of {formulas} formulas not typeset"
    assert errors == 0, f"{name}: {errors} TeX errors"
    return images, formulas


def test_index_links_every_notebook_page_and_each_shows_figures_and_math(page, server, site_dir):
    expected = json.loads((site_dir / "pages.json").read_text())
    page.goto(server + "index.html")
    assert page.locator("h2#questions").count() == 1, "the index shows the questions table"
    assert page.locator("table").count() >= 2
    links = page.eval_on_selector_all("a.vl-page", "links => links.map(a => a.getAttribute('href'))")
    assert links == [p["page"] for p in expected]
    _wait_for_math(page)
    seen = []
    for i, href in enumerate(links):
        page.goto(server + "index.html")
        page.click(f'a.vl-page[href="{href}"]')
        page.wait_for_load_state("load")
        assert page.url == server + href
        images, formulas = _check_page(page, href)
        badge = page.get_attribute("nav.vl-top a.vl-colab", "href")
        assert badge and badge.startswith("https://colab.research.google.com/github/") \
            and badge.endswith("/notebooks/" + expected[i]["name"])
        nxt = page.locator("nav.vl-top a.vl-next")
        if i + 1 < len(links):
            assert nxt.get_attribute("href") == links[i + 1]
        else:
            assert nxt.count() == 0
        seen.append((href, images, formulas))
    print("pages: " + ", ".join(f"{h} ({n} figures, {m} formulas)" for h, n, m in seen))
    assert not page.outside, f"the site fetched from the network: {page.outside[:5]}"
    assert not page.errors, f"script errors: {page.errors[:5]}"
    assert not _missing(page), f"files not found: {_missing(page)[:5]}"
    if page.missing:
        print(f"MathJax fonts not in the package (MathJax falls back): {sorted(set(page.missing))}")


def test_the_index_links_the_claims_ledger_as_a_page(page, server, site_dir):
    page.goto(server + "index.html")
    href = page.get_attribute('a[href="CLAIMS.html"]', "href")
    assert href == "CLAIMS.html", "the index links the claims ledger's page"
    page.click('a[href="CLAIMS.html"]')
    page.wait_for_load_state("load")
    assert page.locator("table").count() >= 1 and "Claims ledger" in page.inner_text("h1")
    assert not _missing(page), f"files not found: {_missing(page)[:5]}"


def test_next_links_walk_the_series_in_order(page, server, site_dir):
    expected = [p["page"] for p in json.loads((site_dir / "pages.json").read_text())]
    page.goto(server + expected[0])
    walked = [expected[0]]
    while page.locator("nav.vl-bottom a.vl-next").count():
        page.click("nav.vl-bottom a.vl-next")
        page.wait_for_load_state("load")
        walked.append(page.url.rsplit("/", 1)[1])
    assert walked == expected
    page.click("nav.vl-bottom a.vl-prev")
    page.wait_for_load_state("load")
    assert page.url.endswith("/" + expected[-2]) if len(expected) > 1 else True


def test_a_page_works_from_disk(page, site_dir):
    pages = json.loads((site_dir / "pages.json").read_text())
    target = pages[min(1, len(pages) - 1)]["page"]
    page.goto((site_dir / target).resolve().as_uri())
    _check_page(page, f"file://{target}")
    page.click("nav.vl-top a.vl-home")
    page.wait_for_load_state("load")
    assert page.url.endswith("/index.html") and page.url.startswith("file://")
    assert not page.outside, f"the page fetched from the network: {page.outside[:5]}"
    assert not page.errors, f"script errors: {page.errors[:5]}"
