"""The `vae-lesson` command, run in-process."""
import json
import math

import pytest

import vae_lesson as vl
from vae_lesson.tools import cli

TINY = ["--dataset", "digits", "--hidden", "32", "--latent", "4", "--device", "cpu"]


def test_train_json_prints_one_object(capsys):
    assert cli.main(["train", *TINY, "--epochs", "2", "--k", "20", "--json"]) == 0
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1
    result = json.loads(out)
    for key in ("seconds_per_epoch", "test_elbo", "test_nll"):
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
    assert result["seconds_per_epoch"] > 0
    assert result["epochs_completed"] == 2 and result["from_cache"] is False
    assert result["latent_dim"] == 4 and result["hidden"] == 32 and result["dataset"] == "digits"
    # NLL is minus an importance-weighted bound, which lies above the ELBO (here by ~3 nats)
    assert 0 < result["test_nll"] < -result["test_elbo"] + 5
    assert "training" in err  # the progress bar went to stderr

    # the second time the model comes from the cache, with the same scores
    assert cli.main(["train", *TINY, "--epochs", "2", "--k", "20", "--json", "--quiet"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["from_cache"] is True
    assert again["test_elbo"] == result["test_elbo"] and again["test_nll"] == result["test_nll"]


def test_train_says_whether_its_nll_is_a_log_likelihood(capsys):
    """A Bernoulli decoder scores a probability only for binary images."""
    assert cli.main(["train", *TINY, "--epochs", "1", "--k", "5", "--json", "--quiet"]) == 0
    grey = json.loads(capsys.readouterr().out)
    assert grey["is_log_likelihood"] is False
    assert cli.main(["train", *TINY, "--epochs", "1", "--k", "5", "--binarize", "dynamic", "--quiet"]) == 0
    assert "not -log p(x)" not in capsys.readouterr().out
    assert cli.main(["train", *TINY, "--epochs", "1", "--k", "5", "--binarize", "dynamic", "--json", "--quiet"]) == 0
    binary = json.loads(capsys.readouterr().out)
    assert binary["is_log_likelihood"] is True
    # scored on binary test images: the same ELBO fit reported for them
    assert binary["test_nll"] < -binary["test_elbo"] + 5


def test_train_readable_summary(capsys):
    assert cli.main(["train", *TINY, "--epochs", "1", "--k", "5", "--quiet",
                     "--likelihood", "gaussian", "--sigma", "learned"]) == 0
    out = capsys.readouterr().out
    assert "test ELBO" in out and "test NLL" in out and "nats per image" in out
    assert "gaussian decoder (sigma learned)" in out


def test_bench_prints_both_throughputs_and_their_ratio(capsys):
    assert cli.main(["bench", *TINY, "--epochs", "1", "--batch-size", "256"]) == 0
    result = json.loads(capsys.readouterr().out)
    fast, slow = result["vl_fit"], result["dataloader"]
    for timing in (fast, slow):
        assert timing["images_per_second"] > 0 and len(timing["epoch_seconds"]) == 1
        assert math.isclose(timing["images_per_second"] * timing["seconds_per_epoch"], 1500)
    assert math.isclose(result["speedup"], slow["seconds_per_epoch"] / fast["seconds_per_epoch"])
    assert result["synthetic"] is False and result["n_images"] == 1500
    assert result["warmup_epochs"] == 1 and slow["workers"] == 0


def test_bench_per_step_reports_both_step_times_and_their_ratio(capsys):
    assert cli.main(["bench", "--dataset", "digits", "--per-step", "6", "--hidden", "16", "--latent", "4",
                     "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["timed_steps"] == 6 and result["fit_step_seconds"] > 0 and result["minimal_step_seconds"] > 0
    assert math.isclose(result["fit_vs_minimal_per_step"],
                        result["fit_step_seconds"] / result["minimal_step_seconds"])


def test_bench_synthetic_data_are_labelled(monkeypatch, capsys):
    from vae_lesson.tools import bench

    monkeypatch.setattr(bench, "SYNTHETIC_SIZE", 512)  # keep the unit test fast
    assert cli.main(["bench", "--dataset", "synthetic", "--epochs", "1", "--hidden", "16",
                     "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["synthetic"] is True and "synthetic" in result["note"] and result["n_images"] == 512


def test_pil_dataset_gives_the_same_pixels_as_the_tensor():
    import numpy as np
    import torch
    from vae_lesson.tools.bench import PILImages, synthetic_uint8

    images = synthetic_uint8(n=4)
    ds = PILImages(images)
    assert len(ds) == 4
    torch.testing.assert_close(ds[2], torch.from_numpy(images[2]).float()[None] / 255)
    assert images.dtype == np.uint8


@pytest.mark.parametrize("argv, message", [
    (["train", *TINY, "--epochs", "1", "--lr", "-1"], "Invalid learning rate"),
    (["train", *TINY, "--epochs", "1", "--lr", "1e4", "--json"], "NaN"),
    (["train", *TINY, "--epochs", "1", "--batch-size", "5000"], "batch size 5000 is larger"),
])
def test_bad_input_exit_code_2_and_one_line(argv, message, capsys):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("vae-lesson train: error:") and message in last


def test_unknown_dataset_from_environment(monkeypatch, capsys):
    monkeypatch.setenv("VAE_LESSON_DATASET", "cifar10")
    assert cli.main(["train", "--epochs", "1", "--device", "cpu"]) == 2
    assert "unknown data set 'cifar10'" in capsys.readouterr().err


def test_download_failure_exit_code_2(monkeypatch, tmp_path, capsys):
    from torchvision import datasets

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(datasets.MNIST, "download", offline)
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(tmp_path / "empty"))
    assert cli.main(["train", "--dataset", "mnist", "--epochs", "1", "--device", "cpu"]) == 2
    assert "VAE_LESSON_DATASET=mnist-5k" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["train", "--arch", "resnet"], ["train", "--latent", "0"], ["train", "--sigma", "-1"],
    ["bench", "--dataset", "cifar10"], ["frobnicate"], [],
])
def test_bad_arguments_exit_code_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_prepare_trains_every_recipe_and_the_classifier(monkeypatch, capsys):
    recipes = {"a": dict(hidden=16, latent_dim=2, epochs=1), "b": dict(hidden=16, latent_dim=3, epochs=1)}
    monkeypatch.setattr(vl.recipes, "RECIPES", recipes)
    monkeypatch.setattr(cli, "RECIPES", recipes)
    monkeypatch.setenv("VAE_LESSON_DATASET", "mnist")  # prepare --dataset overrides it, as an argument
    monkeypatch.setenv("VAE_LESSON_DEVICE", "cpu")
    called = []
    monkeypatch.setattr(cli, "_classifier", lambda: lambda dataset, progress: called.append(dataset))
    assert cli.main(["prepare", "--dataset", "digits", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "[1/2] a" in out and "[2/2] b" in out
    assert called == ["digits"]
    assert vl.config.dataset_name() == "mnist"  # the setting is not changed behind the user's back
    assert len(list(vl.config.cache_dir().glob("vae-digits-*.pt"))) == 2
    assert cli.main(["prepare", "--list"]) == 0
    assert "a " in capsys.readouterr().out
    assert cli.main(["prepare", "--only", "c"]) == 2
    assert "unknown recipe(s) c" in capsys.readouterr().err


def test_prepare_finds_the_digit_classifier():
    classifier = cli._classifier()
    try:
        import vae_lesson.metrics as metrics
    except ModuleNotFoundError:
        assert classifier is None
    else:
        assert classifier is getattr(metrics, "digit_classifier", None)


@pytest.mark.parametrize("flag, quick", [("--quick", True), ("--full", False)])
def test_prepare_takes_the_mode_as_site_does(monkeypatch, capsys, flag, quick):
    """prepare --quick / --full trains the models of that mode (those the notebooks will look for), and
    leaves the user's setting as it was."""
    monkeypatch.setattr(cli, "RECIPES", {"a": {}})
    monkeypatch.setattr(cli, "_classifier", lambda: None)
    monkeypatch.setattr(cli, "load", lambda *a, **k: [0])
    seen = []

    def fake_trained(name, **settings):
        seen.append(vl.config.quick())
        return None, {"epoch": [1], "test_elbo": [-1.0]}

    monkeypatch.setattr(cli, "trained", fake_trained)
    monkeypatch.setenv("VAE_LESSON_QUICK", "0" if quick else "1")  # the opposite of the flag
    assert cli.main(["prepare", flag, "--dataset", "digits", "--quiet"]) == 0
    assert seen == [quick]
    assert f"({'quick' if quick else 'full'} mode)" in capsys.readouterr().out
    assert vl.config.quick() is not quick  # restored
    site_args = cli.build_parser().parse_args(["site", "out", flag])
    prepare_args = cli.build_parser().parse_args(["prepare", flag])
    assert site_args.mode == prepare_args.mode == flag[2:]


def test_every_setting_is_documented_where_users_look():
    """Each VAE_LESSON_* setting the package reads appears in `vae-lesson --help` and the README's settings
    table; those a student sets appear in notebook 00's table too."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    read = set(re.findall(r'os\.environ\.get\("(VAE_LESSON_\w+)"', (root / "vae_lesson" / "config.py").read_text()))
    read |= set(re.findall(r'"(VAE_LESSON_\w+)"', (root / "vae_lesson" / "claims.py").read_text()))
    assert {"VAE_LESSON_DATASET", "VAE_LESSON_SEED", "VAE_LESSON_CLAIMS"} <= read
    help_text = cli.build_parser().format_help()
    readme = (root / "README.md").read_text()
    tour = (root / "notebooks" / "00_tour.py").read_text()
    for name in sorted(read):
        assert name in help_text, f"{name} missing from vae-lesson --help"
        assert f"| `{name}`" in readme, f"{name} missing from the README's settings table"
    for name in sorted(read - {"VAE_LESSON_STATIC", "VAE_LESSON_CLAIMS_LEDGER", "VAE_LESSON_NOTEBOOK"}):
        assert f"| `{name}" in tour, f"{name} missing from notebook 00's table"
