"""vae_lesson.tools.site on a small series of two notebooks (fast); the browser test
(tests/test_site_browser.py) opens what it builds."""
import json
import os
import re

import pytest

from vae_lesson.tools import cli, site

from site_fixtures import small_series, write_notebook

pytest.importorskip("jupyter_server_mathjax", reason="the site needs the `site` extra: pip install -e '.[site]'")


def test_relink_turns_notebook_links_into_page_links():
    text = ('<a href="notebooks/05_no_encoder.ipynb">04</a> <a href="06_prior_vs_posterior.ipynb#Exercises">'
            '</a> <a href="https://example.org/x.ipynb">other</a>')
    assert site.relink(text) == ('<a href="05_no_encoder.html">04</a> <a href="06_prior_vs_posterior.html#Exercises">'
                                 '</a> <a href="https://example.org/x.ipynb">other</a>')


def test_repo_url_comes_from_the_first_code_cell_else_the_default():
    nb = {"cells": [{"cell_type": "markdown", "source": "REPO_URL = 'https://github.com/no/no'"},
                    {"cell_type": "code", "source": 'import sys\nREPO_URL = "https://github.com/me/fork/"  # yours'}]}
    assert site.repo_url(nb) == "https://github.com/me/fork"
    assert site.repo_url({"cells": [{"cell_type": "code", "source": "x = 1"}]}) == site.DEFAULT_REPO_URL


def test_colab_url():
    assert (site.colab_url("https://github.com/me/fork.git", "01_elbo.ipynb")
            == "https://colab.research.google.com/github/me/fork/blob/main/notebooks/01_elbo.ipynb")
    assert site.colab_url("https://gitlab.com/me/fork", "01_elbo.ipynb") is None


def test_the_series_readme_has_the_index_sections():
    sections = site.readme_sections(site.README.read_text())
    assert "| notebook |" in sections["The notebooks, in order"]
    assert "| the question, in a line |" in sections["Questions this series answers"]
    with pytest.raises(site.SiteError, match="no section"):
        site.readme_sections("# T\n\n## Other\n")


def _link(page, css_class):
    """The href of the first link of this class on the page (None if there is none)."""
    tag = re.search(rf'<a\b[^>]*class="[^"]*\b{css_class}\b[^"]*"[^>]*>', page)
    return re.search(r'href="([^"]*)"', tag.group(0)).group(1) if tag else None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("series")
    notebooks, readme = small_series(folder)
    pages = site.build(folder / "site", notebooks=notebooks, readme=readme, timeout=120, log=lambda m: None)
    return folder / "site", pages


def test_site_has_a_page_per_notebook_an_index_and_mathjax(built):
    out, pages = built
    assert [p["page"] for p in pages] == ["00_first.html", "01_second.html"]
    assert (out / "mathjax" / "MathJax.js").is_file()
    index = (out / "index.html").read_text()
    assert 'href="00_first.html"' in index and 'href="01_second.html#One"' in index
    assert "Not shown on the index" not in index
    first = (out / "00_first.html").read_text()
    assert re.search(r'<img[^>]+src="data:image/png;base64,', first), "the figure is embedded"
    assert "largest value 1.000" in first
    assert _link(first, "vl-next") == "01_second.html" and _link(first, "vl-prev") is None
    assert "colab.research.google.com/github/someone/a-fork/blob/main/notebooks/00_first.ipynb" in first
    second = (out / "01_second.html").read_text()
    assert "colab.research.google.com/github/vae-lesson/vae-lesson/" in second
    assert _link(second, "vl-prev") == "00_first.html" and _link(second, "vl-next") is None


def test_site_loads_nothing_from_the_network(built):
    out, _ = built
    for page in out.glob("*.html"):
        text = page.read_text()
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", text):
            assert not re.search(r'(?:src|href)="(?:https?:)?//', tag), f"{page.name}: {tag}"


def test_a_failing_cell_fails_the_build_and_keeps_the_old_site(tmp_path, built):
    bad = write_notebook(tmp_path / "02_bad.ipynb", [("markdown", "# Bad"), ("code", "x = 1"),
                                                      ("code", "raise ValueError('a claim no longer holds')")])
    out = tmp_path / "site"
    out.mkdir()
    (out / "index.html").write_text("the old site")
    _, readme = small_series(tmp_path / "series")
    with pytest.raises(site.SiteError, match=r"(?s)02_bad.ipynb, cell 2 failed.*ValueError: a claim no longer holds"):
        site.build(out, notebooks=[bad], readme=readme, timeout=60, log=lambda m: None)
    assert (out / "index.html").read_text() == "the old site"


def test_a_cell_tagged_raises_exception_fails_the_build_too(tmp_path):
    path = write_notebook(tmp_path / "03_tagged.ipynb", [("code", "raise KeyError('k')")])
    nb = json.loads(path.read_text())
    nb["cells"][0]["metadata"]["tags"] = ["raises-exception"]
    path.write_text(json.dumps(nb))
    with pytest.raises(site.SiteError, match="03_tagged.ipynb, cell 0 shows an error"):
        site.execute(path, timeout=60)


def test_cli_site_refuses_an_unknown_notebook(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_LESSON_QUICK", "0")
    assert cli.main(["site", str(tmp_path / "site"), "--quick", "--only", "99"]) == 2
    assert "no notebook starts with 99" in capsys.readouterr().err
    assert os.environ["VAE_LESSON_QUICK"] == "0", "the user's setting is restored"
    assert not (tmp_path / "site").exists()


def test_cli_site_quick_reaches_the_kernels_through_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VAE_LESSON_QUICK", "0")
    seen = []
    monkeypatch.setattr(site, "build", lambda *a, **k: seen.append(os.environ["VAE_LESSON_QUICK"]) or [])
    assert cli.main(["site", str(tmp_path / "site"), "--quick"]) == 0
    assert seen == ["1"] and os.environ["VAE_LESSON_QUICK"] == "0"


def test_relink_serves_the_colab_badge_from_the_site():
    text = '<img src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/>'
    assert site.relink(text) == f'<img src="{site.BADGE_FILE}" alt="Open In Colab"/>'


def test_a_page_leaves_out_the_setup_cell():
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 01 · Title"),
                nbformat.v4.new_code_cell("REPO_URL = 'x'", metadata={"tags": ["setup"]}),
                nbformat.v4.new_code_cell("x = 1")]
    page = site.without_setup(nb)
    assert [c.source for c in page.cells] == ["# 01 · Title", "x = 1"]
    assert len(nb.cells) == 3  # the executed notebook itself is not changed


def test_links_to_the_repository_documents_become_their_pages():
    text = '<a href="CLAIMS.md">ledger</a> <a href="DEVELOPING.md#training-speed">speed</a> <a href="OTHER.md">x</a>'
    assert site.relink(text) == ('<a href="CLAIMS.html">ledger</a> <a href="DEVELOPING.html#training-speed">speed</a> '
                                 '<a href="OTHER.md">x</a>')
    page = site.doc_page("# Claims ledger\n\n| a | b |\n|---|---|\n| 1 | 2 |\n", "Claims")
    assert "<table>" in page and 'href="index.html"' in page and "<title>Claims</title>" in page
