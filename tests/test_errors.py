"""Every mistake a student is likely to make gets an error that says what to do."""
import os
import re
import stat

import numpy as np
import pytest
import torch

import vae_lesson as vl
from vae_lesson.data import ImageData


def _data(images):
    return ImageData(images, torch.zeros(len(images), dtype=torch.long), "test")


def test_normalize_to_minus_one_one_is_refused_for_bernoulli(digits, small_vae):
    train, _ = digits
    normalized = _data(train.images * 2 - 1)  # what Normalize((0.5,), (0.5,)) does
    with pytest.raises(ValueError, match=r"needs pixel values in \[0, 1\].*\[-1.00, 1.00\].*Normalize"):
        vl.fit(small_vae(), normalized, epochs=1, progress=False)
    with pytest.raises(ValueError, match="Normalize"):
        vl.elbo(small_vae(), normalized.images[:8])
    # a Gaussian decoder has no such restriction
    vl.elbo(small_vae(likelihood="gaussian"), normalized.images[:8])


def test_integer_images_are_refused(digits, small_vae):
    train, _ = digits
    as_bytes = _data((train.images * 255).to(torch.uint8))
    with pytest.raises(TypeError, match=r"integer dtype torch.uint8.*x.float\(\) / 255"):
        vl.fit(small_vae(), as_bytes, epochs=1, progress=False)


def test_nan_in_data_is_refused(digits, small_vae):
    train, test = digits
    broken = test.images.clone()
    broken[3, 0, 10, 10] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite"):
        vl.fit(small_vae(), train, _data(broken), epochs=1, progress=False)


@pytest.mark.parametrize("shape", [(20, 784), (20, 28, 28), (20, 3, 28, 28), (20, 1, 8, 8)])
def test_wrong_shapes_are_refused(small_vae, shape):
    with pytest.raises(ValueError, match=re.escape(f"shape (N, 1, 28, 28), got {shape}")):
        vl.fit(small_vae(), _data(torch.rand(shape)), epochs=1, batch_size=10, progress=False)


def test_not_a_tensor_is_refused():
    with pytest.raises(TypeError, match="must be a torch.Tensor, got ndarray"):
        vl.data.check_images(np.zeros((2, 1, 28, 28), dtype=np.float32))


@pytest.mark.parametrize("latent", [0, -1])
def test_latent_size_must_be_positive(latent):
    with pytest.raises(ValueError, match=f"latent size must be at least 1, got {latent}"):
        vl.make_vae(latent_dim=latent)


def test_hidden_size_must_be_positive():
    with pytest.raises(ValueError, match="hidden size must be at least 1"):
        vl.make_vae(hidden=0)


def test_batch_larger_than_data(digits, small_vae):
    train, _ = digits
    with pytest.raises(ValueError, match=r"batch size 2000 is larger than the training data \(1500 images\)"):
        vl.fit(small_vae(), train, epochs=1, batch_size=2000, progress=False)
    with pytest.raises(ValueError, match="batch size must be at least 1"):
        vl.data.batches(10, 0, torch.Generator())


def test_unknown_names():
    with pytest.raises(ValueError, match="unknown data set 'cifar10'; choose one of mnist, mnist-5k, fashion-mnist, digits"):
        vl.load("cifar10")
    with pytest.raises(ValueError, match="split must be 'train' or 'test', not 'val'"):
        vl.load("digits", "val")
    with pytest.raises(ValueError, match=r"unknown architecture 'resnet'; choose one of \('mlp', 'conv'\)"):
        vl.make_vae(arch="resnet")
    with pytest.raises(ValueError, match="unknown likelihood 'poisson'"):
        vl.make_vae(likelihood="poisson")
    with pytest.raises(ValueError, match="unknown prior 'gmm'.*fit_gaussian_mixture"):
        vl.make_vae(prior="gmm")
    with pytest.raises(ValueError, match="sigma must be positive or 'learned', got -0.1"):
        vl.make_vae(likelihood="gaussian", sigma=-0.1)


def test_unknown_binarize_option(digits, small_vae):
    train, _ = digits
    with pytest.raises(ValueError, match="binarize must be 'none' or 'dynamic', not 'static'"):
        vl.fit(small_vae(), train, binarize="static", progress=False)


def test_dataset_from_environment(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_DATASET", "digits")
    assert vl.load(split="test", device="cpu").name == "digits"
    monkeypatch.setenv("VAE_LESSON_DATASET", "MNIST")
    with pytest.raises(ValueError, match="unknown data set 'MNIST'"):
        vl.load(split="test", device="cpu")


# --- MNIST without network, and from a read-only folder -------------------------------------------

@pytest.mark.parametrize("name, cls", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_download_failure_says_use_the_offline_mnist_digits(tmp_path, monkeypatch, name, cls):
    from torchvision import datasets

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: <urlopen error no network>")

    monkeypatch.setattr(getattr(datasets, cls), "download", offline)
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError) as info:
        vl.load(name, "train", device="cpu")
    message = str(info.value)
    print(message)
    assert f"Could not download {name}" in message
    assert "set VAE_LESSON_DATASET=mnist-5k" in message and "a subset of MNIST" in message
    assert "VAE_LESSON_DATA_DIR" in message and f"{cls}/raw" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one error, not a chain


def _write_idx(path, array):
    """A file in MNIST's idx format: zero bytes, type 0x08 (uint8), rank, big-endian sizes, data."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def read_only_mnist(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "hub" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    splits = {"train": (20, "train"), "test": (12, "t10k")}
    arrays = {}
    for split, (n, prefix) in splits.items():
        images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[split] = images, labels
    for folder, _, files in os.walk(tmp_path / "hub"):
        for f in files:
            os.chmod(os.path.join(folder, f), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    for folder in [raw, raw.parent, raw.parent.parent]:
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    yield tmp_path / "hub", arrays
    for folder in [raw.parent.parent, raw.parent, raw]:
        os.chmod(folder, stat.S_IRWXU)


def _snapshot(root):
    return sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*"))


def test_read_only_folder_with_the_files_works(read_only_mnist, monkeypatch):
    from torchvision import datasets

    root, arrays = read_only_mnist
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(root))

    def no_download(self):
        raise AssertionError("tried to download although the files are there")

    monkeypatch.setattr(datasets.MNIST, "download", no_download)
    before = _snapshot(root)
    test = vl.load("mnist", "test", device="cpu")
    train = vl.load("mnist", "train", device="cpu")
    assert _snapshot(root) == before  # nothing written, nothing touched (root ignores chmod)
    images, labels = arrays["test"]
    assert test.images.shape == (12, 1, 28, 28) and test.images.dtype == torch.float32
    torch.testing.assert_close(test.images[:, 0], torch.tensor(images, dtype=torch.float32) / 255)
    assert test.labels.tolist() == labels.tolist()
    # the training split is shuffled once (fixed seed): the same images, in another order
    assert sorted(train.labels.tolist()) == sorted(arrays["train"][1].tolist())
    assert len(train) == 20 and 0 <= train.images.min() and train.images.max() <= 1


# --- a damaged or half-downloaded file in the data folder ---------------------------------------------

def _mnist_folder(tmp_path, n_train=20, n_test=12):
    rng = np.random.default_rng(0)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for n, prefix in ((n_train, "train"), (n_test, "t10k")):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, n))
    return raw


@pytest.mark.parametrize("damage, problem", [
    (lambda p: p.write_bytes(p.read_bytes()[:5000]), "is incomplete: 5,000 of the 15,696 bytes its header announces"),
    (lambda p: p.write_bytes(b"<html>503 Service Unavailable</html>"), "is damaged: it does not start like an MNIST-format file"),
    (lambda p: p.write_bytes(p.read_bytes() + b"\0" * 10), "is damaged: 15,706 bytes, more than the 15,696"),
])
def test_damaged_data_file_is_named_with_how_to_recover(tmp_path, monkeypatch, damage, problem):
    from torchvision import datasets

    raw = _mnist_folder(tmp_path)
    damage(raw / "train-images-idx3-ubyte")
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(datasets.MNIST, "download", lambda self: pytest.fail("tried to download"))
    with pytest.raises(vl.data.DataFileError) as info:
        vl.load("mnist", "train", device="cpu")
    message = str(info.value)
    assert message.startswith(f"{raw / 'train-images-idx3-ubyte'} {problem}")
    assert "delete it and run again to download it anew, or copy it again" in message
    assert "\n" not in message and info.value.__cause__ is None


def test_half_downloaded_archive_is_named_when_it_cannot_be_fetched_again(tmp_path, monkeypatch):
    import gzip

    from torchvision import datasets

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    whole = gzip.compress(np.random.default_rng(0).integers(0, 256, 100_000).astype(np.uint8).tobytes())
    (raw / "train-images-idx3-ubyte.gz").write_bytes(whole[: len(whole) // 2])  # the download stopped

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: <urlopen error no network>")

    monkeypatch.setattr(datasets.MNIST, "download", offline)
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(vl.data.DataFileError, match=r"train-images-idx3-ubyte.gz is incomplete or damaged.*"
                                                     r"delete it and run again"):
        vl.load("mnist", "train", device="cpu")


def test_whole_files_pass_the_check(tmp_path, monkeypatch):
    _mnist_folder(tmp_path)
    monkeypatch.setenv("VAE_LESSON_DATA_DIR", str(tmp_path / "data"))
    assert len(vl.load("mnist", "test", device="cpu")) == 12
