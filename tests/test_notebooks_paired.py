"""Each notebook is a jupytext pair: notebooks/NN_name.py (py:percent, the reviewed source) and
NN_name.ipynb (what Colab and nbval open). The two agree, and the .ipynb is committed clean."""
import json
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PAIRS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
SYNC = "jupytext --sync notebooks/*.py"
STRIP = "jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"


def _cells(nb):
    return [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in nb["cells"]]


def test_there_are_notebooks():
    assert len(PAIRS) >= 7


@pytest.mark.parametrize("ipynb", PAIRS, ids=lambda p: p.stem)
def test_pair_in_sync(ipynb):
    py = ipynb.with_suffix(".py")
    assert py.exists(), f"{py.name} is missing: run `jupytext --set-formats ipynb,py:percent {ipynb}`"
    from_py = _cells(jupytext.read(py))
    from_ipynb = _cells(json.loads(ipynb.read_text()))
    first = next((i for i, (a, b) in enumerate(zip(from_py, from_ipynb)) if a != b),
                 min(len(from_py), len(from_ipynb)))
    assert from_py == from_ipynb, (
        f"{py.name} and {ipynb.name} differ (first at cell {first}): edit the .py, then run `{SYNC}`")


@pytest.mark.parametrize("ipynb", PAIRS, ids=lambda p: p.stem)
def test_committed_clean(ipynb):
    nb = json.loads(ipynb.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    with_outputs = [i for i, c in enumerate(nb["cells"]) if c.get("outputs") or c.get("execution_count")]
    assert not with_outputs, f"{ipynb.name}: cells {with_outputs} hold outputs: run `{STRIP}`"
    ids = [c.get("id") for c in nb["cells"]]
    assert all(ids) and len(set(ids)) == len(ids), f"{ipynb.name}: every cell needs its own id"
    assert code, ipynb.name
