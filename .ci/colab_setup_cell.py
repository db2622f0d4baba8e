"""Run the notebooks' setup cell as Colab runs it, with this checkout in place of GitHub.

The cell's code is taken from the first notebook as it is, with two changes only: REPO_URL is this
checkout (file://...) and REF its current branch; `google.colab` is faked in sys.modules, so the
cell takes its Colab path and runs the same `git ls-remote` and `pip install -q git+URL@REF`.
Run it with the Python of the environment to install into. Like Colab, it installs what is
committed: uncommitted changes are not part of the install.
"""
import importlib.util
import subprocess
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# vae_lesson/tools/repo.py uses the standard library only: load it without installing the package.
spec = importlib.util.spec_from_file_location("vae_lesson_repo", ROOT / "vae_lesson" / "tools" / "repo.py")
repo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(repo)


def git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


def main():
    ref = git("rev-parse", "--abbrev-ref", "HEAD")  # "HEAD" when detached: ls-remote finds it too
    if git("status", "--porcelain", "--untracked-files=no"):
        print("colab check: note: uncommitted changes are not installed (the cell installs commit "
              f"{git('rev-parse', '--short', 'HEAD')}, as Colab installs what is pushed)")
    source = repo.setup_cell(repo.notebook_pairs(ROOT)[0])
    source, n_url = repo.REPO_URL_LINE.subn(f'REPO_URL = "{ROOT.as_uri()}"', source)
    source, n_ref = repo.REF_LINE.subn(f'REF = "{ref}"', source)
    assert n_url == 1 and n_ref == 1, "the setup cell must set REPO_URL and REF once each"
    sys.modules["google.colab"] = types.ModuleType("google.colab")
    exec(compile(source, "<setup cell>", "exec"), {"__name__": "__main__"})


if __name__ == "__main__":
    main()
