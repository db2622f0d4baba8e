"""Fixtures for the unit tests: every test gets a fresh, empty model cache and data folder (so a
test never reads or writes the user's cache), and the digits data set, which is bundled with
scikit-learn and needs no network."""
import pytest
import torch

import vae_lesson as vl


@pytest.fixture(autouse=True)
def private_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_LESSON_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("VAE_LESSON_EXECUTED_DIR", raising=False)  # a test's own pytest runs save nothing
    return tmp_path


_DIGITS = {}


@pytest.fixture
def digits():
    """(train, test) of the digits data set on the CPU, loaded once per test session."""
    if not _DIGITS:
        _DIGITS["train"] = vl.load("digits", "train", device="cpu")
        _DIGITS["test"] = vl.load("digits", "test", device="cpu")
    return _DIGITS["train"], _DIGITS["test"]


def _small_vae(seed=0, **kwargs):
    torch.manual_seed(seed)
    return vl.make_vae(**{"hidden": 32, "latent_dim": 4, **kwargs})


@pytest.fixture
def small_vae():
    """small_vae(seed, **settings): a small VAE with seeded initial weights (an epoch of digits
    takes a blink)."""
    return _small_vae
