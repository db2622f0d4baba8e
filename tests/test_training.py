"""fit: it learns, it is reproducible, it stops clearly on NaN and keeps its work on Ctrl-C;
trained_vae: its cache."""
import math

import pytest
import torch

import vae_lesson as vl
from vae_lesson import train as train_module
from vae_lesson.data import ImageData


def _without_seconds(history):
    return {key: values for key, values in history.items() if key != "seconds"}


def test_training_raises_the_test_elbo(digits, small_vae):
    train, test = digits
    model = small_vae()
    torch.manual_seed(0)
    before = train_module.evaluate(model, test.images)["elbo"]
    history = vl.fit(model, train, test, epochs=3, progress=False)
    torch.manual_seed(0)
    after = train_module.evaluate(model, test.images)["elbo"]
    print(f"test ELBO before {before:.1f}, after 3 epochs {after:.1f} nats")
    assert after > before + 30  # measured: about +60 nats
    assert history["test_elbo"][-1] > history["test_elbo"][0]
    assert history["epoch"] == [1, 2, 3]
    assert all(len(values) == 3 for values in history.values())


def test_same_seed_same_history_other_seed_other_history(digits, small_vae):
    train, test = digits
    runs = [vl.fit(small_vae(seed=0), train, test, epochs=2, seed=s, progress=False)
            for s in (7, 7, 8)]
    assert _without_seconds(runs[0]) == _without_seconds(runs[1])  # exactly equal, on the CPU
    assert runs[0]["loss"] != runs[2]["loss"]
    assert runs[0]["test_elbo"] != runs[2]["test_elbo"]


def test_dynamic_binarization_is_seeded_and_trains(digits, small_vae):
    train, test = digits
    h1 = vl.fit(small_vae(), train, test, epochs=2, binarize="dynamic", progress=False)
    h2 = vl.fit(small_vae(), train, test, epochs=2, binarize="dynamic", progress=False)
    assert _without_seconds(h1) == _without_seconds(h2)
    assert all(math.isfinite(v) for v in h1["test_elbo"])


@pytest.mark.parametrize("lr", [1e2, 1e6])
def test_fit_stops_on_nan_with_the_cause(digits, small_vae, lr):
    train, test = digits
    with pytest.raises(FloatingPointError, match=rf"epoch 1\. Likely causes: the learning rate may be too high \(lr={lr}\)"):
        vl.fit(small_vae(), train, test, epochs=3, lr=lr, progress=False)


def test_fit_stops_on_nan_parameters(digits, small_vae):
    train, _ = digits
    model = small_vae()
    with torch.no_grad():
        model.decoder.net[0].weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="NaN"):
        vl.fit(model, train, None, epochs=2, progress=False)


def test_fit_stops_on_infinite_loss_and_names_the_gaussian_sigma(digits, small_vae):
    train, _ = digits
    model = small_vae(likelihood="gaussian", sigma=1e-30)  # log p(x|z) overflows float32
    with pytest.raises(FloatingPointError, match="loss became NaN or infinite.*larger fixed sigma"):
        vl.fit(model, train, None, epochs=2, batch_size=len(train), progress=False)


def test_fit_keeps_model_and_history_on_keyboard_interrupt(digits, small_vae, monkeypatch, capsys):
    train, test = digits
    calls = []

    def batches_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the start of epoch 2
            raise KeyboardInterrupt
        return vl.data.batches(*args, **kwargs)

    monkeypatch.setattr(train_module, "batches", batches_then_ctrl_c)
    model = small_vae()
    before = [p.detach().clone() for p in model.parameters()]
    history = vl.fit(model, train, test, epochs=5, progress=False)
    assert history["epoch"] == [1]
    assert all(len(values) == 1 for values in history.values())
    assert not model.training
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert "Interrupted: keeping the model and the history of 1 epochs" in capsys.readouterr().out
    # trained_vae returns an interrupted run but does not cache it
    calls.clear()
    _, history = vl.trained_vae(dataset="digits", hidden=32, latent_dim=4, epochs=5,
                                device="cpu", progress=False)
    assert len(history["epoch"]) == 1
    assert not list(vl.config.cache_dir().glob("*.pt"))


SETTINGS = dict(dataset="digits", hidden=32, latent_dim=4, epochs=2, device="cpu", progress=False)


def test_cache_loads_without_training(monkeypatch):
    model, history = vl.trained_vae(**SETTINGS)
    files = list(vl.config.cache_dir().glob("*.pt"))
    assert len(files) == 1 and files[0].name.startswith("vae-digits-mlp-z4-")

    def no_training(*args, **kwargs):
        raise AssertionError("trained_vae trained again instead of loading the cache")

    monkeypatch.setattr(train_module, "fit", no_training)
    loaded, loaded_history = vl.trained_vae(**SETTINGS)
    assert loaded_history == history
    assert not loaded.training
    for (key, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), key
    # other settings, other cache entry: this one must train
    with pytest.raises(AssertionError, match="trained again"):
        vl.trained_vae(**{**SETTINGS, "seed": 1})


def test_corrupt_cache_is_retrained_with_a_warning():
    _, history = vl.trained_vae(**SETTINGS)
    (path,) = vl.config.cache_dir().glob("*.pt")
    path.write_bytes(b"not a model: half-written file")
    with pytest.warns(UserWarning, match="could not be read.*rebuilding"):
        _, again = vl.trained_vae(**SETTINGS)
    assert _without_seconds(again) == _without_seconds(history)  # same seed, same result


@pytest.mark.filterwarnings("error")
def test_cache_rewritten_after_corruption():
    vl.trained_vae(**SETTINGS)
    (path,) = vl.config.cache_dir().glob("*.pt")
    path.write_bytes(b"\x00" * 10)
    with pytest.warns(UserWarning):
        vl.trained_vae(**SETTINGS)
    vl.trained_vae(**SETTINGS)  # no warning: the file was replaced


def test_trained_vae_leaves_the_callers_random_numbers_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    vl.trained_vae(**SETTINGS)      # trains
    after_training = torch.rand(3)
    torch.manual_seed(5)
    vl.trained_vae(**SETTINGS)      # loads
    after_loading = torch.rand(3)
    assert torch.equal(after_training, expected)
    assert torch.equal(after_loading, expected)


def test_recipes_are_valid_trained_vae_settings():
    import inspect

    allowed = set(inspect.signature(vl.trained_vae).parameters)
    for name, recipe in vl.RECIPES.items():
        assert set(recipe) <= allowed, f"recipe {name!r} has unknown settings {set(recipe) - allowed}"
    with pytest.raises(ValueError, match="unknown recipe 'nope'; known: .*tour"):
        vl.trained("nope")


def test_fit_accepts_any_image_data(small_vae):
    g = torch.Generator().manual_seed(0)
    data = ImageData(torch.rand(64, 1, 28, 28, generator=g), torch.zeros(64, dtype=torch.long), "noise")
    history = vl.fit(small_vae(), data, data, epochs=1, batch_size=64, progress=False)
    assert math.isfinite(history["test_elbo"][0])
