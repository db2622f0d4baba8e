"""Where the notebooks install `vae_lesson` from, and where their "Open in Colab" links point.

Every notebook starts with an "Open in Colab" badge and a setup cell that, in Colab only, runs
`pip install git+REPO_URL@REF`. A lecturer who publishes a copy of the series points all of them
at the copy with one command, run in the copy's folder:

    vae-lesson set-repo https://github.com/OWNER/REPO --ref main

It rewrites REPO_URL and REF in every notebook (the .py and the .ipynb of each pair, cell ids
kept) and every Colab link in the notebooks and the README. Running it twice changes nothing.
Colab opens notebooks from GitHub, so only a github.com address is accepted.

This module uses the standard library only: the Colab check loads it before vae_lesson is installed.
"""
import json
import re
from pathlib import Path

COLAB = "https://colab.research.google.com/github"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
# A Colab link to one of the series' notebooks, whatever repository and ref it names now.
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^\s()\"'\]]+?/notebooks/"
                        r"(?P<name>\d\d_[A-Za-z0-9_]+\.ipynb)")
REPO_URL_LINE = re.compile(r'^REPO_URL = "(?P<value>[^"]*)"', re.M)
REF_LINE = re.compile(r'^REF = "(?P<value>[^"]*)"', re.M)
GITHUB = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)"
                    r"/(?P<repo>[A-Za-z0-9._-]+?)(?:\.git)?/?$")
REF = re.compile(r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*\.lock$)[A-Za-z0-9._/-]+(?<![/.])$")


class RepoError(ValueError):
    """An address or ref that the notebooks cannot use."""


def github_repo(url):
    """(owner, repo) of a github.com address, or RepoError saying why it cannot be used."""
    text = url.strip()
    if text.startswith("git@") or text.startswith("ssh://"):
        raise RepoError(f"{url!r} is an SSH address; Colab installs over HTTPS without your keys: "
                        f"use https://github.com/OWNER/REPO")
    match = GITHUB.match(text)
    if not match:
        raise RepoError(f"{url!r} is not a GitHub repository address (https://github.com/OWNER/REPO): "
                        f"Colab opens notebooks from GitHub only, so it could not link to this one")
    return match["owner"], match["repo"]


def check_ref(ref):
    if not REF.match(ref):
        raise RepoError(f"{ref!r} is not a branch or tag name")
    return ref


def colab_link(owner, repo, ref, notebook):
    return f"{COLAB}/{owner}/{repo}/blob/{ref}/notebooks/{notebook}"


def badge(owner, repo, ref, notebook):
    """The markdown of an "Open in Colab" badge for notebooks/<notebook>."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_link(owner, repo, ref, notebook)})"


def notebook_pairs(root):
    """The .ipynb files of the series under root/notebooks (each has a .py twin)."""
    return sorted(Path(root, "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(ipynb):
    """(cell_type, source) of each cell of a .ipynb."""
    nb = json.loads(Path(ipynb).read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in nb["cells"]]


def setup_cell(ipynb):
    """The source of the setup cell: the first code cell."""
    return next(source for kind, source in cells(ipynb) if kind == "code")


def current(root):
    """(REPO_URL, REF) as the setup cell of the first notebook sets them."""
    source = setup_cell(notebook_pairs(root)[0])
    url, ref = REPO_URL_LINE.search(source), REF_LINE.search(source)
    if not url or not ref:
        raise RepoError("the first code cell of the first notebook sets no REPO_URL and REF")
    return url["value"], ref["value"]


def _rewrite(text, url, ref, owner, repo):
    text = REPO_URL_LINE.sub(lambda m: f'REPO_URL = "{url}"', text)
    text = REF_LINE.sub(lambda m: f'REF = "{ref}"', text)
    return COLAB_LINK.sub(lambda m: colab_link(owner, repo, ref, m["name"]), text)


def _rewrite_ipynb(path, rewrite):
    """Rewrite each cell's source, keeping everything else (ids, metadata) and nbformat's layout."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        new = rewrite(source)
        if new != source:
            cell["source"] = new.splitlines(keepends=True)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def set_repo(root, url, ref=None):
    """Point every notebook and the README at https://github.com/OWNER/REPO, branch or tag `ref`
    (default: keep the current one). Returns the files it changed (none on a second run)."""
    root = Path(root)
    pairs = notebook_pairs(root)
    if not pairs:
        raise RepoError(f"no notebooks in {root / 'notebooks'}: run set-repo in the folder of your "
                        f"copy of the series (the one that holds notebooks/ and README.md)")
    owner, repo = github_repo(url)
    ref = check_ref(ref if ref is not None else current(root)[1])
    url = f"https://github.com/{owner}/{repo}"

    def rewrite(text):
        return _rewrite(text, url, ref, owner, repo)

    new = {}
    for ipynb in pairs:
        new[ipynb] = _rewrite_ipynb(ipynb, rewrite)
        py = ipynb.with_suffix(".py")
        if py.exists():
            new[py] = rewrite(py.read_text(encoding="utf-8"))
    readme = root / "README.md"
    if readme.exists():
        new[readme] = rewrite(readme.read_text(encoding="utf-8"))
    changed = [path for path, text in new.items() if path.read_text(encoding="utf-8") != text]
    for path in changed:
        path.write_text(new[path], encoding="utf-8")
    return url, ref, changed
