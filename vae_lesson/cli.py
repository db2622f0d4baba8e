"""The `vae-lesson` command.

  vae-lesson prepare                      once before class: data + every model the notebooks load
  vae-lesson train --dataset digits --epochs 50 --json    train (or load) one model and score it
  vae-lesson bench --dataset synthetic    how fast `fit` trains, next to a DataLoader loop
  vae-lesson set-repo https://github.com/OWNER/REPO --ref main   point the notebooks at a copy

Progress bars go to stderr; with --json, stdout holds exactly one JSON object.
"""
import argparse
import contextlib
import importlib
import json
import math
import sys
import time

import torch

from . import config
from .data import DATASETS, load
from .models import ARCHS, LIKELIHOODS
from .objectives import log_likelihood
from .recipes import RECIPES, trained
from .train import cached_vae, default_epochs, evaluate

# Errors the package raises for bad input: shown as one line, exit code 2.
USER_ERRORS = (ValueError, TypeError, RuntimeError, FloatingPointError)


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _sigma(text):
    if text == "learned":
        return text
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number or 'learned', got {text}")
    return value


def _finite_or_none(value):
    """JSON has no NaN: a non-finite number becomes null."""
    return value if not isinstance(value, float) or math.isfinite(value) else None


# --- train ---------------------------------------------------------------------------------------

def cmd_train(args):
    dataset = args.dataset or config.dataset_name()
    device = torch.device(args.device or config.get_device())
    settings = dict(dataset=dataset, arch=args.arch, latent_dim=args.latent, hidden=args.hidden,
                    likelihood=args.likelihood, sigma=args.sigma, prior=args.prior, beta=args.beta,
                    epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                    binarize=args.binarize)
    cached = cached_vae(**settings, device=device, progress=not args.quiet)
    (model, history), from_cache = cached.value, cached.from_cache
    settings["epochs"] = args.epochs or default_epochs(dataset)
    test = load(dataset, "test", device)
    if history["epoch"]:
        test_elbo = history["test_elbo"][-1]
    else:  # interrupted before the first epoch ended
        test_elbo = evaluate(model, test.images, args.beta)["elbo"]
    torch.manual_seed(args.seed)  # the importance samples
    start = time.perf_counter()
    nll = -log_likelihood(model, test.images, k=args.k)
    seconds = history["seconds"]
    result = {
        **settings,
        "device": str(device),
        "mode": config.by_mode("full", "quick"),
        "epochs_completed": len(history["epoch"]),
        "from_cache": from_cache,
        "seconds_per_epoch": sum(seconds) / len(seconds) if seconds else None,
        "train_elbo": history["elbo"][-1] if history["epoch"] else None,
        "test_elbo": test_elbo,
        "test_nll": nll,
        "k": args.k,
        "nll_seconds": time.perf_counter() - start,
        "n_test": len(test),
        "units": "nats per image",
    }
    return {key: _finite_or_none(value) for key, value in result.items()}


def show_train(r):
    trained_how = "loaded from the cache" if r["from_cache"] else "trained now"
    speed = "" if r["seconds_per_epoch"] is None else f", {r['seconds_per_epoch']:.3f} s per epoch"
    sigma = f" (sigma {r['sigma']})" if r["likelihood"] == "gaussian" else ""
    print(f"{r['dataset']}: {r['arch']} VAE, hidden {r['hidden']}, latent {r['latent_dim']}, "
          f"{r['likelihood']} decoder{sigma}, beta {r['beta']}, seed {r['seed']}")
    print(f"{r['epochs_completed']} epochs, {trained_how}{speed} (device {r['device']})")
    print(f"test ELBO {r['test_elbo']:10.2f} nats per image")
    print(f"test NLL  {r['test_nll']:10.2f} nats per image "
          f"(importance sampling, k={r['k']}, {r['n_test']} test images)")


# --- prepare -------------------------------------------------------------------------------------

def _classifier():
    """metrics.digit_classifier, if the installed package has it (imported only when needed)."""
    try:
        metrics = importlib.import_module(f"{__package__}.metrics")
    except ModuleNotFoundError as err:
        if err.name != f"{__package__}.metrics":
            raise
        return None
    return getattr(metrics, "digit_classifier", None)


def cmd_prepare(args):
    dataset = args.dataset or config.dataset_name()
    names = args.only or list(RECIPES)
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        raise ValueError(f"unknown recipe(s) {', '.join(unknown)}; known: {', '.join(RECIPES)}")
    classifier = _classifier()
    if args.list:
        for name in names:
            print(f"{name:24s} {RECIPES[name]}")
        return None
    mode = config.by_mode("full", "quick")
    print(f"Preparing {len(names)} models{' and the digit classifier' if classifier else ''} "
          f"on {dataset} ({mode} mode) into {config.cache_dir()}")
    if mode == "full":
        print("(notebooks run with VAE_LESSON_QUICK=1 use other, smaller models: run prepare "
              "with that setting too if you will use quick mode)")
    start = time.perf_counter()
    train, test = load(dataset, "train"), load(dataset, "test")  # downloads the data if needed
    print(f"data: {len(train)} training and {len(test)} test images")
    for i, name in enumerate(names, 1):
        t = time.perf_counter()
        try:
            _, history = trained(name, dataset=dataset, progress=not args.quiet)
        except USER_ERRORS:
            print(f"recipe {name!r} failed:", file=sys.stderr)
            raise
        print(f"[{i}/{len(names)}] {name}: {len(history['epoch'])} epochs, test ELBO "
              f"{history['test_elbo'][-1]:.2f} nats ({time.perf_counter() - t:.1f} s)")
    if classifier is not None:
        t = time.perf_counter()
        classifier(dataset=dataset, progress=not args.quiet)
        print(f"digit classifier ({time.perf_counter() - t:.1f} s)")
    print(f"done in {time.perf_counter() - start:.0f} s; the notebooks now load these models "
          f"from {config.cache_dir()}")
    return None


# --- bench ---------------------------------------------------------------------------------------

def cmd_bench(args):
    from . import bench

    return bench.run(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                     arch=args.arch, hidden=args.hidden, latent=args.latent, lr=args.lr,
                     workers=args.workers, device=args.device, seed=args.seed)


# --- set-repo ------------------------------------------------------------------------------------

def cmd_set_repo(args):
    from . import repo

    try:
        url, ref, changed = repo.set_repo(args.root, args.url, args.ref)
    except repo.RepoError as err:
        raise ValueError(str(err)) from None
    if changed:
        print(f"Notebooks and README now install from {url} at {ref} and link to Colab there; "
              f"changed {len(changed)} files:")
        for path in changed:
            print(f"  {path}")
        print("Commit and push these files, so that Colab finds what the links name.")
    else:
        print(f"Nothing to change: every notebook already installs from {url} at {ref}.")
    return None


def add_set_repo(sub):
    p = sub.add_parser("set-repo", help="point every notebook and Colab link at a copy of the series",
                       description="Rewrite REPO_URL and REF in the setup cell of every notebook (the "
                                   ".py and the .ipynb of each pair) and every 'Open in Colab' link in "
                                   "the notebooks and the README. Run it in the folder of your copy; "
                                   "running it twice changes nothing.")
    p.add_argument("url", help="the copy's GitHub address, https://github.com/OWNER/REPO")
    p.add_argument("--ref", help="the branch or tag students install (default: keep the current one)")
    p.add_argument("--root", default=".", help="the folder that holds notebooks/ (default: here)")
    p.set_defaults(func=cmd_set_repo, show=None, json=False)


# --- the command line ----------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="vae-lesson", description="Helpers for the VAE lesson notebooks.",
        epilog="Settings from the environment: VAE_LESSON_DATASET, VAE_LESSON_QUICK, "
               "VAE_LESSON_DEVICE, VAE_LESSON_DATA_DIR, VAE_LESSON_CACHE_DIR.")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an error (for bug reports)")
    sub = parser.add_subparsers(dest="command", required=True)
    ds_help = "data set (default: $VAE_LESSON_DATASET, else mnist)"

    p = sub.add_parser("train", help="train (or load from the cache) one VAE and score it",
                       description="Train a VAE, or load it if these settings were trained before, "
                                   "and report its test ELBO and test NLL (k-sample importance "
                                   "sampling), in nats per image.")
    p.add_argument("--dataset", choices=DATASETS, help=ds_help)
    p.add_argument("--arch", choices=ARCHS, default="mlp")
    p.add_argument("--hidden", type=_positive_int, default=512)
    p.add_argument("--latent", type=_positive_int, default=16, help="latent size D")
    p.add_argument("--likelihood", choices=LIKELIHOODS, default="bernoulli")
    p.add_argument("--sigma", type=_sigma, default=0.1,
                   help="Gaussian decoder's sigma: a number or 'learned' (default 0.1)")
    p.add_argument("--prior", choices=("normal", "vamp"), default="normal")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help="default: the data set's default (digits 200, MNIST 30; fewer in quick mode)")
    p.add_argument("--batch-size", type=_positive_int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--beta", type=float, default=1.0, help="weight of the KL term")
    p.add_argument("--binarize", choices=("none", "dynamic"), default="none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=_positive_int, default=1000,
                   help="importance samples per test image for the NLL (default 1000)")
    p.add_argument("--device", help="default: $VAE_LESSON_DEVICE, else cuda, mps or cpu")
    p.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train, show=show_train)

    p = sub.add_parser("prepare", help="download the data and train every model the notebooks use",
                       description="Run once before class: downloads the data set, trains and "
                                   "caches every recipe in vae_lesson.recipes (and the digit "
                                   "classifier), so the notebooks load their models at once. "
                                   "Uses the current VAE_LESSON_QUICK and VAE_LESSON_CACHE_DIR.")
    p.add_argument("--dataset", choices=DATASETS, help=ds_help)
    p.add_argument("--only", nargs="+", metavar="RECIPE", help="prepare only these recipes")
    p.add_argument("--list", action="store_true", help="list the recipes and stop")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_prepare, show=None, json=False)

    p = sub.add_parser("bench", help="training speed of fit vs a DataLoader loop (JSON)",
                       description="Images per second of vl.fit (one tensor, indexed batches) next "
                                   "to a plain DataLoader loop over PIL images with ToTensor: same "
                                   "model, batch size, optimizer and loss, in the same run. The "
                                   "first epoch of each is a warm-up and is not counted.")
    p.add_argument("--dataset", choices=DATASETS + ("synthetic",), default="synthetic",
                   help="a data set, or 'synthetic': 60,000 random 28x28 images (default)")
    p.add_argument("--epochs", type=_positive_int, default=3, help="timed epochs (default 3)")
    p.add_argument("--batch-size", type=_positive_int, default=128)
    p.add_argument("--arch", choices=ARCHS, default="mlp")
    p.add_argument("--hidden", type=_positive_int, default=512)
    p.add_argument("--latent", type=_positive_int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--workers", type=int, default=0,
                   help="DataLoader worker processes (default 0: on few cores, workers slow it down)")
    p.add_argument("--device", help="default: $VAE_LESSON_DEVICE, else cuda, mps or cpu")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_bench, show=None, json=True)

    add_set_repo(sub)
    return parser


def main(argv=None):
    """Entry point of the `vae-lesson` command. Returns the exit code (2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    stdout = sys.stdout
    # With --json, anything else the package prints (a download message, an interrupted
    # training's note) goes to stderr, so stdout stays one parseable JSON object.
    quiet_stdout = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    try:
        with quiet_stdout:
            result = args.func(args)
    except USER_ERRORS as err:
        if args.traceback:
            raise
        print(f"vae-lesson {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vae-lesson {args.command}: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        if args.json:
            indent = 2 if args.command == "bench" else None  # train --json: one line
            print(json.dumps(result, indent=indent), file=stdout)
        else:
            args.show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
