"""Settings from the environment, read when used: quick mode, static widgets, the seed, the device."""
import os
import subprocess
import sys

import pytest
import torch

import vae_lesson as vl
from vae_lesson import config, data



def test_by_mode_reads_the_setting_at_each_call(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_QUICK", "0")
    assert vl.by_mode("full", "quick") == "full" and not config.quick()
    monkeypatch.setenv("VAE_LESSON_QUICK", "1")  # no re-import: the next call sees it
    assert vl.by_mode("full", "quick") == "quick" and config.quick()
    monkeypatch.delenv("VAE_LESSON_QUICK")
    assert vl.by_mode("full", "quick") == "full"


def test_quick_mode_shrinks_data_and_epochs(monkeypatch):
    monkeypatch.setattr(data, "QUICK_MAX_TRAIN", 100)
    monkeypatch.setenv("VAE_LESSON_QUICK", "1")
    assert len(vl.load("digits", "train", device="cpu")) == 100
    assert len(vl.load("digits", "test", device="cpu")) == 297  # the test split is never cut
    assert vl.train.default_epochs("digits") == vl.train.EPOCHS["digits"][1]
    monkeypatch.setenv("VAE_LESSON_QUICK", "0")
    assert len(vl.load("digits", "train", device="cpu")) == 1500
    assert vl.train.default_epochs("mnist") == vl.train.EPOCHS["mnist"][0]


def test_static_is_read_at_each_call(monkeypatch):
    drawn = []
    monkeypatch.setenv("VAE_LESSON_STATIC", "1")
    vl.widgets.interact_or_static(lambda: drawn.append("live"), lambda: drawn.append("static"))
    assert drawn == ["static"]
    monkeypatch.setenv("VAE_LESSON_STATIC", "0")
    assert not config.static()


def test_seed_setting(monkeypatch, capsys):
    monkeypatch.delenv("VAE_LESSON_SEED", raising=False)
    assert config.seed() == 0
    monkeypatch.setenv("VAE_LESSON_SEED", "2")
    assert config.seed() == 2
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cpu")
    vl.setup()
    assert "seed 2" in capsys.readouterr().out
    monkeypatch.setenv("VAE_LESSON_SEED", "two")
    with pytest.raises(ValueError, match="VAE_LESSON_SEED"):
        config.seed()


def test_no_import_time_settings():
    """Settings are functions read when used: no module keeps a copy made at import time."""
    assert not hasattr(config, "QUICK") and not hasattr(config, "STATIC") and not hasattr(vl, "QUICK")


def test_device_override(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cpu")
    assert vl.get_device() == torch.device("cpu")
    monkeypatch.setenv("VAE_LESSON_DEVICE", "meta")  # a device torch has everywhere, though an odd one
    assert vl.get_device() == torch.device("meta")
    assert vl.load("digits", "test").images.device.type == "meta"  # data follow it
    monkeypatch.delenv("VAE_LESSON_DEVICE")
    assert vl.get_device().type in ("cuda", "mps", "cpu")


@pytest.mark.parametrize("asked", ["cuda", "cuda:1", "mps"])
def test_device_this_machine_lacks_says_what_is_available(monkeypatch, asked):
    # as on a laptop without a GPU (also when the tests run on one)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 0)
    monkeypatch.setattr(config, "_mps_available", lambda: False)
    monkeypatch.setenv("VAE_LESSON_DEVICE", asked)
    with pytest.raises(RuntimeError) as info:
        vl.setup()
    message = str(info.value)
    assert message == (f"VAE_LESSON_DEVICE={asked!r} asks for a device this machine lacks; available "
                       f"here: cpu; set VAE_LESSON_DEVICE to one of these, or unset it to pick the best one")


def test_device_index_beyond_the_gpus_there_are(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(config, "_mps_available", lambda: False)
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cuda:2")
    with pytest.raises(RuntimeError, match=r"'cuda:2' asks for a device this machine lacks; "
                                           r"available here: cpu, cuda:0, cuda:1;"):
        vl.get_device()
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cuda:1")
    assert vl.get_device() == torch.device("cuda:1")


def test_device_that_is_no_device_name(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_DEVICE", "gpu")
    with pytest.raises(ValueError, match=r"^VAE_LESSON_DEVICE='gpu' is not a device name; available here: cpu"):
        vl.get_device()


def test_cli_shows_the_device_error_in_one_line(monkeypatch, capsys):
    from vae_lesson.tools import cli

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cuda")
    assert cli.main(["train", "--dataset", "digits", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "VAE_LESSON_DEVICE='cuda'" in err


def test_setup_seeds_and_reports(monkeypatch, capsys):
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cpu")
    monkeypatch.setenv("VAE_LESSON_DATASET", "digits")
    monkeypatch.setenv("VAE_LESSON_QUICK", "1")
    device = vl.setup(seed=3)
    first = torch.rand(2)
    vl.setup(seed=3)
    assert torch.equal(first, torch.rand(2))
    assert device == torch.device("cpu")
    out = capsys.readouterr().out
    assert "seed 3" in out and "data set: digits" in out and "mode: quick" in out


_SUBNORMALS = """
import torch{extra}
x = torch.full((4_000_000,), 1e-30)
y = x * 1e-10          # 1e-40: a float32 subnormal, computed on every CPU thread of the pool
print(int((y.view(torch.int32) != 0).sum()))  # the bits, not a comparison that flushing could change
"""


def _nonzero_subnormals(extra=""):
    code = _SUBNORMALS.format(extra=extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "OMP_NUM_THREADS": "2"})
    return int(out.stdout.split()[-1])


def test_importing_the_package_flushes_subnormals_on_every_cpu_thread():
    """Subnormals slow training many times on some CPUs (config.flush_denormals); the CPU threads
    torch starts after the import must flush them too, not only the main thread."""
    if not torch.set_flush_denormal(True):  # (True: what the package set already)
        pytest.skip("this CPU cannot flush subnormals (torch.set_flush_denormal is x86-only)")
    assert _nonzero_subnormals() == 4_000_000          # plain torch keeps them
    assert _nonzero_subnormals("\nimport vae_lesson") == 0
