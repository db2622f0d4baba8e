"""`vae-lesson claims` on a small synthetic notebook: each claim is recorded on every run (a failing
one too, and the cells after it still run), and CLAIMS.md aggregates them, flagging a failure, a
thin margin and a missing null, and keeping the hand-written notes."""
import nbformat
import pytest

from vae_lesson.tools import claims as ledger

CELLS = [
    "import vae_lesson as vl\nseed = vl.config.seed()",
    # holds on seed 0 (0.9), fails on seed 2 (0.7 < 0.75)
    'vl.claim("better", "B beats A", 0.9 - 0.1 * seed, ">", 0.75, null=0.5, null_is="chance")',
    # holds, but by 1 standard error only: thin
    'vl.claim("close", "C is below D", 1.0, "<", 1.1, null=2.0, null_is="D", se=0.1, unit="nats")',
    # holds, with no null named
    'vl.claim("no-null", "E is positive", 3.0, ">", 0.0, null=None, null_is="not known yet")',
    # a plain check (no claim) that fails on seed 2: listed apart
    'assert seed != 2, "a check of the code"',
]


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "99_synthetic.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_ledger_records_every_claim_on_every_run(notebook, tmp_path):
    path, errors = ledger.record([notebook], seeds=(0, 2), datasets=("digits",), ledger=tmp_path / "l.jsonl",
                                 progress=None, timeout=120)
    rows = ledger.read(path)
    assert errors == [("99_synthetic", "digits", 2, [1, 4])]  # seed 2: the failed claim's cell and the check's
    assert [(r["id"], r["seed"], r["holds"]) for r in rows] == [
        ("better", 0, True), ("close", 0, True), ("no-null", 0, True),
        ("better", 2, False), ("close", 2, True), ("no-null", 2, True)]  # cells after a failure still ran
    assert {r["notebook"] for r in rows} == {"99_synthetic"} and {r["dataset"] for r in rows} == {"digits"}

    out = tmp_path / "CLAIMS.md"
    out.write_text("old table\n" + ledger.HAND_NOTES + "\n## A note kept by hand\n")
    ledger.write(out, rows, errors)
    text = out.read_text()
    assert "old table" not in text and "## A note kept by hand" in text
    assert "## 99_synthetic" in text
    line = {c: next(l for l in text.splitlines() if l.startswith(f"| `{c}`")) for c in ("better", "close", "no-null")}
    assert "FAILED on digits seed 2" in line["better"] and "1/2" in line["better"] and "0.7 to 0.9" in line["better"]
    assert "thin: 1.0 SE" in line["close"] and "2/2" in line["close"]
    assert "no null" in line["no-null"]
    assert "- 99_synthetic, digits seed 2: cells 1, 4" in text
    assert {(nb, c) for nb, c, _ in ledger.flagged(rows)} == {
        ("99_synthetic", "better"), ("99_synthetic", "close"), ("99_synthetic", "no-null")}


def test_a_share_of_the_way_flags_a_thin_margin_without_a_standard_error():
    row = dict(notebook="n", id="x", statement="s", value=1.02, compare=">", threshold=1.0, null=0.0,
               null_is="z", se=None, unit="", holds=True, margin=0.02, seed=0, dataset="d", mode="quick",
               device="cpu")
    (claim,) = ledger.summarise([row])["n"]
    assert claim["flags"] == ["thin: 2% of the way from the null"]
    wide = {**row, "value": 3.0, "margin": 2.0}
    assert ledger.summarise([wide])["n"][0]["flags"] == []
    # positive numbers over orders of magnitude: measured on a log scale
    collapse = {**row, "value": 0.0002, "compare": "<", "threshold": 0.1, "null": 50.0, "margin": 0.0998}
    assert ledger.summarise([collapse])["n"][0]["flags"] == []  # half the way from 50 to 0.0002, in log terms
    close = {**collapse, "threshold": 0.00021, "margin": 0.00001}
    assert ledger.summarise([close])["n"][0]["flags"][0].startswith("thin")


def test_the_command_line_writes_claims_md(notebook, tmp_path, monkeypatch):
    from vae_lesson.tools import cli

    called = {}

    def fake_main(notebooks, out, seeds, datasets, quick, ledger=None, cache_dir=None):
        called.update(notebooks=[str(p) for p in notebooks], out=str(out), seeds=seeds, datasets=datasets,
                      quick=quick)
        return 0

    monkeypatch.setattr(ledger, "main", fake_main)
    assert cli.main(["claims", str(notebook), "--seeds", "0", "1", "--datasets", "digits",
                     "--out", str(tmp_path / "C.md")]) == 0
    assert called == {"notebooks": [str(notebook)], "out": str(tmp_path / "C.md"), "seeds": [0, 1],
                      "datasets": ["digits"], "quick": True}


def test_cells_that_failed_other_than_by_a_claim_are_listed():
    row = dict(notebook="n", id="x", statement="s", value=2.0, compare=">", threshold=1.0, null=0.0,
               null_is="z", se=None, unit="", holds=True, margin=1.0, seed=1, dataset="d", mode="quick",
               device="cpu")
    text = ledger.markdown([row], errors=[("n", "d", 1, [40, 41])])
    assert "## Cells that failed other than by a claim" in text and "- n, d seed 1: cells 40, 41" in text
