"""environment.yml and pyproject.toml agree; notebooks are committed clean, with the Colab cells
(their contents, the same in every notebook, are checked in test_colab.py)."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")

def _parse(requirement):
    name, spec = REQUIREMENT.match(requirement.strip()).groups()
    bounds = frozenset(s.replace(" ", "") for s in spec.split(",") if s.strip())
    return name.lower().replace("_", "-"), bounds


def _pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():  # environment.yml installs every extra
        requirements += extra
    parsed = {}
    for name, bounds in map(_parse, requirements):
        assert parsed.setdefault(name, bounds) == bounds, f"{name} has two different bounds in pyproject.toml"
    return project, parsed


def _environment_yml():
    """The conda packages and the pip list of environment.yml (a simple file: parsed by hand,
    since PyYAML need not be installed)."""
    conda, pip, in_pip = {}, {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        indent = len(text) - len(text.lstrip())
        item = text.strip()
        if item == "- pip:":
            in_pip, pip_indent = True, indent
            continue
        if in_pip and indent <= pip_indent:
            in_pip = False
        if not item.startswith("- "):
            continue
        item = item[2:].strip()
        if in_pip:
            if not item.startswith("-e ") and not item.startswith("--"):
                name, bounds = _parse(item)
                pip[name] = bounds
        else:
            name, bounds = _parse(item)
            conda[name] = bounds
    return conda, pip


def test_environment_yml_lists_the_same_packages_as_pyproject():
    _, declared = _pyproject()
    _, pip = _environment_yml()
    assert set(pip) == set(declared), (
        f"only in environment.yml: {sorted(set(pip) - set(declared))}; "
        f"only in pyproject.toml: {sorted(set(declared) - set(pip))}")
    for name in declared:
        assert pip[name] == declared[name], f"{name}: {sorted(pip[name])} vs {sorted(declared[name])}"


def test_environment_yml_installs_the_package_itself():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s*- -e \.\s*$", text, re.M), "environment.yml should pip install -e ."


def test_environment_python_is_one_the_package_supports():
    project, _ = _pyproject()
    conda, _ = _environment_yml()
    lower = lambda spec: tuple(int(n) for n in re.search(r">=\s*([\d.]+)", spec).group(1).split("."))
    (python_bound,) = conda["python"]
    assert lower(python_bound) >= lower(project["requires-python"])


def test_no_exact_pins_and_no_torch_upper_bound():
    _, declared = _pyproject()
    _, pip = _environment_yml()
    for source in (declared, pip):
        for name, bounds in source.items():
            assert not any(b.startswith("==") or b.startswith("===") for b in bounds), f"{name} is pinned"
            assert all(b.startswith(">=") for b in bounds), f"{name}: lower bounds only, got {bounds}"
    for name in ("torch", "torchvision"):
        assert not any(b.startswith(("<", "~=")) for b in declared[name]), \
            f"no upper bound on {name}: Colab and course hubs bring their own"


def test_console_script_is_declared():
    project, _ = _pyproject()
    assert project["scripts"]["vae-lesson"] == "vae_lesson.tools.cli:main"
    from vae_lesson.tools import cli

    assert callable(cli.main)


def test_the_tools_subpackage_is_installed():
    """setuptools installs only the packages listed: without vae_lesson.tools, a pip install (Colab's)
    would have no `vae-lesson` command."""
    tomllib = pytest.importorskip("tomllib")
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    folders = sorted(str(p.parent.relative_to(ROOT)).replace("/", ".")
                     for p in (ROOT / "vae_lesson").rglob("__init__.py"))
    assert sorted(packages) == folders


HELPERS = sorted((ROOT / "vae_lesson").glob("*.py"))


def _imports_tools(path):
    """The lines of `path` (a module directly in vae_lesson/) that import vae_lesson.tools, in any
    spelling: import vae_lesson.tools[.x], from vae_lesson.tools[.x] import ..., from vae_lesson
    import tools, from .tools[.x] import ..., from . import tools."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # absolute name of what is imported from: a module directly in vae_lesson/ is in the
            # package vae_lesson, so level 1 (.) is vae_lesson and level 2 (..) is above it
            if node.level == 0:
                base = node.module or ""
            elif node.level == 1:
                base = "vae_lesson" + (f".{node.module}" if node.module else "")
            else:
                base = "." * node.level + (node.module or "")  # outside the package: not tools
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        if any(name == "vae_lesson.tools" or name.startswith("vae_lesson.tools.") for name in names):
            found.append(node.lineno)
    return found


def test_the_check_for_tools_imports_sees_every_spelling(tmp_path):
    spellings = ["import vae_lesson.tools", "import vae_lesson.tools.cli as c", "from vae_lesson.tools import cli",
                 "from vae_lesson.tools.site import build", "from vae_lesson import tools", "from .tools import cli",
                 "from .tools.timings import run", "from . import tools", "from . import config, tools",
                 "def f():\n    from .tools import handout"]
    for code in spellings:
        (tmp_path / "m.py").write_text(code + "\n")
        assert _imports_tools(tmp_path / "m.py"), code
    for code in ["from . import timings", "import vae_lesson.timings", "from .train import fit",
                 "from vae_lesson import config", "import tools", "from .toolsy import x"]:
        (tmp_path / "m.py").write_text(code + "\n")
        assert not _imports_tools(tmp_path / "m.py"), code


@pytest.mark.parametrize("path", HELPERS, ids=lambda p: p.name)
def test_helpers_never_import_the_tools(path):
    """The helpers are what the notebooks import; the tools (vae_lesson/tools/) are the lecturer's
    and maintainer's. Tools may import helpers, never the other way round."""
    assert not _imports_tools(path), f"vae_lesson/{path.name} imports vae_lesson.tools (lines {_imports_tools(path)})"


def test_importing_the_package_does_not_load_the_tools():
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    code = ("import vae_lesson, sys; print(vae_lesson.__file__); "
            "print(any(m.startswith('vae_lesson.tools') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT, env=env, timeout=300).stdout  # the timeout only guards against a hang
    where, loaded = out.strip().splitlines()[-2:]
    assert Path(where).resolve().parent == ROOT / "vae_lesson"  # this checkout's package
    assert loaded == "False", "import vae_lesson loaded vae_lesson.tools"


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_clean_and_starts_with_the_colab_cells(path):
    nb = json.loads(path.read_text())
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "name notebooks NN_short_name.ipynb"
    assert nb["nbformat"] == 4
    badge, setup = nb["cells"][:2]
    assert badge["cell_type"] == "markdown" and "Open In Colab" in "".join(badge["source"])
    assert setup["cell_type"] == "code" and "REPO_URL" in "".join(setup["source"]), \
        "the first code cell must be the Colab setup cell"
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {i} has stored outputs: clear them"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
    assert "widgets" not in nb["metadata"], "stored widget state: clear it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_the_package_and_calls_setup(path):
    cells = json.loads(path.read_text())["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "import vae_lesson as vl" in code
    assert re.search(r"device = vl\.setup\(seed=", code)


def _calls(code, func_names):
    """(name, call) for every call of vl.<func> in `code` (IPython magics skipped)."""
    import ast

    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    for node in ast.walk(ast.parse("\n".join(lines))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "vl"
                and node.func.attr in func_names):
            yield node.func.attr, node


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_models_are_recipes_that_prepare_trains(path):
    """`vae-lesson prepare` trains each recipe with its own settings and seed 0: a notebook that
    overrides other settings, or calls trained_vae itself, would train in class after all."""
    import ast

    import vae_lesson as vl

    cells = json.loads(path.read_text())["cells"]
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for func, call in _calls("".join(cell["source"]), {"trained", "trained_vae"}):
            assert func == "trained", f"{path.name}: make this model a recipe and use vl.trained"
            if call.args and isinstance(call.args[0], ast.Constant):
                assert call.args[0].value in vl.RECIPES, f"{path.name}: no recipe {call.args[0].value!r}"
            overrides = [k.arg for k in call.keywords]
            assert set(overrides) <= {"seed"}, f"{path.name}: prepare does not train overrides {overrides}"


def test_colab_versions_satisfy_every_bound():
    """Installing the package in Colab must leave Colab's packages alone (.ci/colab_check.sh runs
    the real install; this catches a raised bound, like ipywidgets>=8, before it)."""
    version = pytest.importorskip("packaging.version").Version
    _, declared = _pyproject()
    pins = dict(_parse(line) for line in (ROOT / ".ci" / "colab-versions.txt").read_text().splitlines()
                if line.strip() and not line.startswith("#"))
    for name, (pin,) in pins.items():
        assert pin.startswith("=="), f"{name}: pin Colab's exact version"
        for bound in declared.get(name, ()):
            assert version(pin[2:]) >= version(bound[2:]), \
                f"{name}{bound} would replace Colab's {name} {pin[2:]} (Colab would need a restart)"
