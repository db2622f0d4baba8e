"""The core path of each notebook (`vae-lesson handout --core`, `vae-lesson site --core`): every section
is tagged core or deep-dive, and leaving out the deep-dives leaves no name undefined. (The core
notebooks were also run top to bottom when their tags were chosen; this test is the fast guard.)"""
import ast
import builtins
import json

import pytest

from vae_lesson.tools import handout

IPYTHON = {"display", "get_ipython", "In", "Out", "_", "__"}


def _undefined(nb):
    """Names a code cell reads that no code cell of the notebook binds (anywhere: a crude, fast
    over-approximation of "defined"), nor builtins or IPython."""
    loads, stores = set(), set(dir(builtins)) | IPYTHON
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse(handout._python(handout._source(cell)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                (loads if isinstance(node.ctx, ast.Load) else stores).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.add(node.name)
            elif isinstance(node, ast.arg):
                stores.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                stores.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                stores.add(node.name)
    return loads - stores


@pytest.mark.parametrize("path", handout.notebooks(), ids=lambda p: p.stem)
def test_every_section_is_tagged_and_the_core_path_defines_what_it_uses(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    sections = handout.section_tags(nb, path.name)  # raises, naming the cell, for an untagged section
    assert sections, f"{path.name} has no `## ` section"
    core = handout.core_notebook(nb, path.name)
    assert not _undefined(nb), f"{path.name} reads names it never binds: {sorted(_undefined(nb))}"
    missing = _undefined(core)
    assert not missing, (f"{path.name}: its core path reads {sorted(missing)}, bound only in a deep-dive "
                         f"section: tag that section core, or bind the names in a core one")
    kept = [c for c in core["cells"] if c["cell_type"] == "code"]
    assert len(handout.exercises(core)) <= len(handout.exercises(nb)) and kept


def test_core_notebook_drops_a_deep_dive_section_and_says_so():
    cells = [("markdown", "# 01 · T", []), ("markdown", "## 1. Kept", ["core"]), ("code", "a = 1", []),
             ("markdown", "## 2. Dropped", ["deep-dive"]), ("code", "b = a", []),
             ("markdown", "## 3. Kept too", ["core"]), ("code", "print(a)", [])]
    nb = {"cells": [{"cell_type": k, "source": s, "metadata": {"tags": t}, **({"outputs": []} if k == "code" else {})}
                    for k, s, t in cells]}
    core = handout.core_notebook(nb)
    sources = [c["source"] for c in core["cells"]]
    assert sources[0].startswith("# 01 · T\n\n*The core path") and "2. Dropped" in sources[0]
    assert sources[1:] == ["## 1. Kept", "a = 1", "## 3. Kept too", "print(a)"]
    nb["cells"][3]["metadata"]["tags"] = []
    with pytest.raises(handout.HandoutError, match="cell 3: the section '2. Dropped' needs one tag"):
        handout.core_notebook(nb)
