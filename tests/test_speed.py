"""fit's inner loop: the same numbers as the loop a notebook writes by hand with vl.elbo, no
argument validation left switched off afterwards, no host-device synchronisation inside a
training step on CUDA, and the minimal hand-written loop of `vae-lesson bench`."""
import time

import pytest
import torch

import vae_lesson as vl
from vae_lesson.tools import bench
from vae_lesson.data import batches
from vae_lesson.train import adam, no_argument_checks, train_step


def hand_written_fit(model, train, epochs, batch_size, lr, seed, beta=1.0):
    """The loop as a notebook teaches it: seed the noise, a seeded batch order, vl.elbo, Adam."""
    torch.manual_seed(seed)
    order_rng = torch.Generator().manual_seed(seed)
    optimizer = adam(model, lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for idx in batches(len(train), batch_size, order_rng):
            out = vl.elbo(model, train.images[idx], beta)
            optimizer.zero_grad()
            out["loss"].backward()
            optimizer.step()
            total += out["loss"].item() * len(idx)
        losses.append(total / len(train))
    return losses


def test_fit_draws_what_a_hand_written_loop_draws(digits, small_vae):
    train = digits[0].subset(384)
    history = vl.fit(small_vae(3), train, epochs=3, batch_size=128, seed=5, progress=False)
    losses = hand_written_fit(small_vae(3), train, epochs=3, batch_size=128, lr=1e-3, seed=5)
    # same batches, same noise, same updates: equal up to float32 summation order
    assert history["loss"] == pytest.approx(losses, rel=1e-6)


def test_validation_is_restored_after_fit(digits, small_vae):
    before = torch.distributions.Distribution._validate_args
    vl.fit(small_vae(), digits[0].subset(128), epochs=1, batch_size=128, progress=False)
    assert torch.distributions.Distribution._validate_args == before
    with pytest.raises(RuntimeError):
        with no_argument_checks():
            assert torch.distributions.Distribution._validate_args is False
            raise RuntimeError
    assert torch.distributions.Distribution._validate_args == before


def test_train_step_returns_the_per_image_terms_fit_sums(digits, small_vae):
    model = small_vae()
    x = digits[0].images[:64]
    torch.manual_seed(0)
    out = vl.elbo(model, x, check=False)
    torch.manual_seed(0)
    rec, kl = train_step(model, adam(model, 1e-3), x, beta=1.0)
    assert rec.shape == kl.shape == (64,) and not rec.requires_grad and not kl.requires_grad
    assert rec.tolist() == pytest.approx(out["rec"].tolist(), rel=1e-5)
    assert kl.tolist() == pytest.approx(out["kl"].tolist(), rel=1e-5)
    assert -(rec - kl).mean().item() == pytest.approx(out["loss"].item(), rel=1e-5)  # the loss fit records


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_no_host_device_sync_inside_a_training_step_on_cuda(digits):
    device = torch.device("cuda")
    train = digits[0].to(device)
    torch.manual_seed(0)
    model = vl.make_vae(latent_dim=32, hidden=512).to(device)
    optimizer = adam(model, 1e-3)
    steps = batches(len(train), 128, torch.Generator().manual_seed(0), device)
    with no_argument_checks():
        parts = [train_step(model, optimizer, train.images[steps[0]], 1.0)]  # optimizer state
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")  # any synchronisation raises RuntimeError
    try:
        with no_argument_checks():
            for idx in steps[1:6]:  # what fit's inner loop runs per step
                parts.append(train_step(model, optimizer, train.images[idx], 1.0))
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert all(torch.isfinite(rec).all() and torch.isfinite(kl).all() for rec, kl in parts)


def test_minimal_loop_trains(digits):
    images = digits[0].images[:256]
    loop = bench.MinimalLoop(images, batch_size=128, arch="mlp", latent=4, hidden=16, lr=1e-3,
                             seed=0, device=torch.device("cpu"))
    before = [p.clone() for p in loop.decoder.parameters()]
    assert loop.epoch() > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, loop.decoder.parameters()))
    with pytest.raises(ValueError, match="MLP"):
        bench.MinimalLoop(images, 128, "conv", 4, 16, 1e-3, 0, torch.device("cpu"))


def test_fit_calls_back_after_each_epoch_with_its_row(digits, small_vae):
    train = digits[0].subset(256)
    rows = []
    fast = vl.fit(small_vae(), train, epochs=3, batch_size=128, progress=False, callback=rows.append)
    assert [row["epoch"] for row in rows] == [1, 2, 3]
    assert [row["loss"] for row in rows] == fast["loss"]

    # The callback's time is left out of the epoch's seconds, checked with no threshold on how fast
    # this machine is: the same model, data and seed again, with a callback that sleeps. time.sleep
    # sleeps at least that long, so were the callback's time counted (in the epoch it follows, or in
    # the next one's), an epoch would take at least `sleep`: the check below would fail whatever the
    # load. The sleep is long next to an epoch here and now (5 times the slowest epoch of the run
    # above, and at least 1 s: on two busy cores, torch's threads wait for each other and an epoch of
    # a blink can take 0.6 s), so a loaded machine does not make an epoch that long.
    sleep = max(1.0, 5 * max(fast["seconds"]))
    slept = []
    slow = vl.fit(small_vae(), train, epochs=2, batch_size=128, progress=False,
                  callback=lambda row: slept.append(time.sleep(sleep)))
    assert len(slept) == 2
    assert slow["loss"] == fast["loss"][:2]  # the same training, so the same work in each epoch
    for epoch, (with_sleep, without) in enumerate(zip(slow["seconds"], fast["seconds"]), start=1):
        assert with_sleep < sleep, (
            f"epoch {epoch} took {with_sleep:.3f} s with a callback that sleeps {sleep:.3f} s "
            f"({without:.3f} s with one that does nothing): the callback's time is counted in it")


def test_bench_runs_the_chosen_loops(monkeypatch):
    monkeypatch.setattr(bench, "SYNTHETIC_SIZE", 512)
    calls = []
    monkeypatch.setattr(bench, "fit", lambda *a, **k: calls.append(k["epochs"]) or vl.fit(*a, **k))
    result = bench.run("synthetic", epochs=1, batch_size=256, hidden=16, latent=4,
                       loops=("fit", "minimal"), device="cpu")
    assert "dataloader" not in result and result["fit_vs_minimal"] > 0
    # fit is called once for all epochs (1 warm-up + 1 timed), the minimal loop runs between them
    assert calls == [2]
    assert len(result["vl_fit"]["epoch_seconds"]) == len(result["minimal_loop"]["epoch_seconds"]) == 1
    assert len(result["fit_vs_minimal_per_epoch"]) == 1
    with pytest.raises(ValueError, match="loops"):
        bench.run("synthetic", epochs=1, loops=("minimal",), device="cpu")


def test_log_likelihood_standard_error(digits, small_vae):
    model, x = small_vae(), digits[1].images[:40]
    torch.manual_seed(0)
    plain = vl.log_likelihood(model, x, k=8, max_rows=64)
    torch.manual_seed(0)
    mean, se = vl.log_likelihood(model, x, k=8, max_rows=64, return_se=True)
    assert mean == plain  # the same draws and the same sum
    torch.manual_seed(0)
    per_image = torch.cat([vl.iw_bound(model, xb, 8) for xb in x.split(8)])
    assert se == pytest.approx(per_image.std().item() / 40 ** 0.5, rel=1e-4)
