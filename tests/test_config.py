"""Settings from the environment: quick mode read in one place, the device override."""
import json
import re
from pathlib import Path

import pytest
import torch

import vae_lesson as vl
from vae_lesson import config, data

ROOT = Path(__file__).resolve().parents[1]
# vl.QUICK / config.QUICK, or the variable read from the environment (mentioning its name is fine)
QUICK_WORD = re.compile(r"\bQUICK\b|(environ|getenv)\b.*VAE_LESSON_QUICK")


def test_by_mode(monkeypatch):
    monkeypatch.setattr(config, "QUICK", False)
    assert vl.by_mode("full", "quick") == "full"
    monkeypatch.setattr(config, "QUICK", True)
    assert vl.by_mode("full", "quick") == "quick"


def test_quick_mode_reaches_the_package_only_through_by_mode(monkeypatch):
    """Flip by_mode alone: data and epochs follow it."""
    monkeypatch.setattr(config, "QUICK", False)
    monkeypatch.setattr(config, "by_mode", lambda full, quick: quick)
    monkeypatch.setattr(data, "QUICK_MAX_TRAIN", 100)
    assert len(vl.load("digits", "train", device="cpu")) == 100
    assert len(vl.load("digits", "test", device="cpu")) == 297  # the test split is never cut
    assert vl.train.default_epochs("digits") == vl.train.EPOCHS["digits"][1]
    monkeypatch.setattr(config, "by_mode", lambda full, quick: full)
    assert len(vl.load("digits", "train", device="cpu")) == 1500
    assert vl.train.default_epochs("mnist") == vl.train.EPOCHS["mnist"][0]


def test_no_other_module_reads_quick():
    offenders = []
    for path in sorted((ROOT / "vae_lesson").glob("*.py")):
        if path.name == "config.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if QUICK_WORD.search(line) and not line.startswith("from .config import"):
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "read quick mode through config.by_mode only:\n" + "\n".join(offenders)


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_read_quick_mode_only_through_by_mode(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    offenders = [line for cell in code for line in cell.splitlines() if QUICK_WORD.search(line)]
    assert not offenders, f"{notebook.name}: use vl.by_mode(full, quick) instead of: {offenders}"


def test_device_override(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cpu")
    assert vl.get_device() == torch.device("cpu")
    monkeypatch.setenv("VAE_LESSON_DEVICE", "meta")  # any device torch knows, even an odd one
    assert vl.get_device() == torch.device("meta")
    assert vl.load("digits", "test").images.device.type == "meta"  # data follow it
    monkeypatch.delenv("VAE_LESSON_DEVICE")
    assert vl.get_device().type in ("cuda", "mps", "cpu")


def test_setup_seeds_and_reports(monkeypatch, capsys):
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cpu")
    monkeypatch.setenv("VAE_LESSON_DATASET", "digits")
    monkeypatch.setattr(config, "QUICK", True)
    device = vl.setup(seed=3)
    first = torch.rand(2)
    vl.setup(seed=3)
    assert torch.equal(first, torch.rand(2))
    assert device == torch.device("cpu")
    out = capsys.readouterr().out
    assert "seed 3" in out and "data set: digits" in out and "mode: quick" in out
