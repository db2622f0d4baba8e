"""The `vae-lesson` command.

  vae-lesson prepare                      once before class: data + every model the notebooks load
  vae-lesson train --dataset digits --epochs 50 --json    train (or load) one model and score it
  vae-lesson bench --dataset synthetic    how fast `fit` trains, next to a DataLoader loop
  vae-lesson timings                      how long each notebook takes, cold and warm
  vae-lesson claims                       every teaching claim over seeds 0-2 and the offline data sets: CLAIMS.md
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

from .. import config
from ..data import DATASETS, binarize, load
from ..models import ARCHS, LIKELIHOODS
from ..objectives import log_likelihood
from ..recipes import RECIPES, trained
from ..train import cached_vae, default_epochs, evaluate

HELPERS = __package__.rpartition(".")[0]  # vae_lesson: the package whose helpers the commands use

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
    test_images = test.images
    if args.binarize == "dynamic":  # the binary test images fit scored (the same seed)
        test_images = binarize(test.images, torch.Generator().manual_seed(args.seed + 1))
    if history["epoch"]:
        test_elbo = history["test_elbo"][-1]
    else:  # interrupted before the first epoch ended
        test_elbo = evaluate(model, test_images, args.beta)["elbo"]
    torch.manual_seed(args.seed)  # the importance samples
    start = time.perf_counter()
    nll = -log_likelihood(model, test_images, k=args.k)
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
        # a Bernoulli decoder scores a probability only for binary images: on grey levels its score is no
        # log-likelihood, so test_nll is then an importance-weighted score, not -log p(x)
        "is_log_likelihood": args.likelihood != "bernoulli" or args.binarize == "dynamic",
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
    if not r.get("is_log_likelihood", True):
        print("          (a Bernoulli decoder on grey-level images: a score, not -log p(x); "
              "--binarize dynamic trains and scores on binary images)")


# --- prepare -------------------------------------------------------------------------------------

def _classifier():
    """metrics.digit_classifier, if the installed package has it (imported only when needed)."""
    try:
        metrics = importlib.import_module(f"{HELPERS}.metrics")
    except ModuleNotFoundError as err:
        if err.name != f"{HELPERS}.metrics":
            raise
        return None
    return getattr(metrics, "digit_classifier", None)


def cmd_prepare(args):
    with mode_setting(args):
        return _prepare(args)


def _prepare(args):
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

    if args.per_step:
        return bench.run_steps(dataset=args.dataset, steps=args.per_step, batch_size=args.batch_size,
                               hidden=args.hidden, latent=args.latent, lr=args.lr,
                               device=args.device, seed=args.seed)
    return bench.run(dataset=args.dataset, epochs=args.epochs, batch_size=args.batch_size,
                     arch=args.arch, hidden=args.hidden, latent=args.latent, lr=args.lr,
                     workers=args.workers, device=args.device, seed=args.seed,
                     loops=args.loops)


def bench_loops():
    from .bench import LOOPS

    return LOOPS


# --- timings -------------------------------------------------------------------------------------

def cmd_timings(args):
    from . import timings

    result = timings.run(_series(args.notebooks), quick=not args.full, dataset=args.dataset,
                         warm=not args.cold_only, isolated=args.isolated, cache_dir=args.cache_dir, timeout=args.timeout,
                         progress=lambda line: print(line, file=sys.stderr, flush=True),
                         keep_going=args.keep_going)
    return {**result, "markdown": args.markdown} if args.markdown else result


def show_timings(result):
    from . import timings

    print(timings.format_markdown(result) if result.get("markdown") else timings.format_table(result))


# --- claims --------------------------------------------------------------------------------------

def _series(notebooks):
    """The notebooks named, or the series' notebooks/NN_*.ipynb under the current folder."""
    from pathlib import Path

    if notebooks:
        return notebooks
    folder = Path("notebooks")
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb")) if folder.is_dir() else []
    if not paths:
        raise ValueError("no notebooks given and no notebooks/NN_*.ipynb here: run from the "
                         "repository's root, or name the notebooks")
    return paths


def cmd_claims(args):
    from . import claims

    return claims.main(_series(args.notebooks), args.out, seeds=args.seeds, datasets=args.datasets,
                       quick=not args.full, ledger=args.ledger, cache_dir=args.cache_dir)


def add_claims_parser(sub):
    from .claims import DATASETS as LEDGER_DATASETS, SEEDS

    p = sub.add_parser("claims", help="measure every teaching claim over seeds and data sets; write CLAIMS.md",
                       description="Run each notebook on a fresh kernel for every seed and data set, with "
                                   "every vl.claim recorded (a failing claim does not stop its notebook), "
                                   "and write CLAIMS.md: each claim's threshold, null, measured range and "
                                   "smallest margin, flagging failures, thin margins and claims without a "
                                   "null. Exit status 1 if a claim failed on a run or a cell failed.")
    p.add_argument("notebooks", nargs="*", help="notebooks (default: notebooks/NN_*.ipynb under the current folder)")
    p.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS), help="seeds (default: 0 1 2)")
    p.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(LEDGER_DATASETS),
                   help=f"data sets (default: {' '.join(LEDGER_DATASETS)}; mnist and fashion-mnist need a download)")
    p.add_argument("--full", action="store_true", help="full mode (default: quick mode)")
    p.add_argument("--out", default="CLAIMS.md", help="the file to write (default: CLAIMS.md); hand-written "
                                                      "notes at its end are kept")
    p.add_argument("--ledger", help="the JSON-lines file to record into (default: a temporary file)")
    p.add_argument("--cache-dir", help="model cache for these runs (default: a new temporary folder)")
    p.set_defaults(func=cmd_claims, show=None, json=False)


# --- handout -------------------------------------------------------------------------------------

def cmd_handout(args):
    from . import handout, repo

    try:
        written = handout.write_student_tree(args.out_dir, args.repo, args.ref, pairs=not args.no_py,
                                             core=args.core)
    except repo.RepoError as err:
        raise ValueError(str(err)) from None
    notebooks = [p for p in written if p.suffix == ".ipynb"]
    lecturers = [(p.name, json.loads(p.read_text())) for p in handout.notebooks()]
    regions = sum(len(handout.exercises(handout.core_notebook(nb, name) if args.core else nb))
                  for name, nb in lecturers)
    try:
        url, ref = repo.current(args.out_dir)
        source = f"; it installs from {url} at {ref}"
    except repo.RepoError:
        source = ""
    print(f"wrote the students' repository to {args.out_dir}: {len(notebooks)} notebooks ({regions} exercises "
          f"stubbed{'' if args.no_py else ', each with its .py twin'}), vae_lesson/, README.md{source}.")
    if not args.repo:
        print(f"Point it at the repository students will use: vae-lesson handout {args.out_dir} --repo "
              f"https://github.com/OWNER/REPO --ref main (or set-repo --root {args.out_dir}).")
    return None


def add_handout_parser(sub):
    p = sub.add_parser("handout", help="write the students' repository: the notebooks with solutions stubbed",
                       description="Write into OUT_DIR a repository a lecturer can push for the students: "
                                   "notebooks/ (each region between '### BEGIN SOLUTION' and '### END "
                                   "SOLUTION' becomes '# YOUR CODE HERE' and a placeholder that keeps the "
                                   "cell valid Python; outputs cleared; nbgrader cell metadata on each "
                                   "exercise), the package vae_lesson/, pyproject.toml, environment.yml and "
                                   "a README for students. No tests, no instructor notes. The lecturer's "
                                   "files are not changed.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the students' repository")
    p.add_argument("--repo", metavar="URL", help="the students' repository, https://github.com/OWNER/REPO: "
                                                 "its notebooks install from it and its Colab links point at it")
    p.add_argument("--ref", help="the branch or tag students install (with --repo; default: the current one)")
    p.add_argument("--no-py", action="store_true", help="only the .ipynb files, not their .py twins")
    p.add_argument("--core", action="store_true",
                   help="each notebook's core path: the sections tagged deep-dive left out")
    p.set_defaults(func=cmd_handout, show=None, json=False)


# --- map -----------------------------------------------------------------------------------------

def cmd_map(args):
    from . import course_map

    print(course_map.report())
    return None


def add_map_parser(sub):
    p = sub.add_parser("map", help="the course map: student minutes per notebook and section, core and deep-dive",
                       description="Estimate from each notebook's text how long a student needs for each "
                                   "section (prose at 100 words a minute, code at 10 lines a minute, 10 "
                                   "minutes an exercise, a minute a figure), for the core path and the whole "
                                   "notebook; say where a notebook's time line disagrees, and print the "
                                   "README's course-map table.")
    p.set_defaults(func=cmd_map, show=None, json=False)


# --- site ----------------------------------------------------------------------------------------

def add_mode_arguments(p):
    """--quick / --full, the same for every command that trains or runs the notebooks."""
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="quick mode (VAE_LESSON_QUICK=1; default: $VAE_LESSON_QUICK)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="full mode (VAE_LESSON_QUICK=0)")


@contextlib.contextmanager
def mode_setting(args):
    """VAE_LESSON_QUICK from --quick / --full, where given, for the command's run (this process and the
    kernels it starts), so that the models prepared are those the notebooks will look for; restored after."""
    import os

    saved = os.environ.get("VAE_LESSON_QUICK")
    if getattr(args, "mode", None):
        os.environ["VAE_LESSON_QUICK"] = "1" if args.mode == "quick" else "0"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("VAE_LESSON_QUICK", None)
        else:
            os.environ["VAE_LESSON_QUICK"] = saved


def add_series_arguments(p):
    """The arguments `site` and `slides` share: mode, data set, which notebooks, cell timeout, executed copies."""
    add_mode_arguments(p)
    p.add_argument("--dataset", choices=DATASETS, help="data set (default: $VAE_LESSON_DATASET, else mnist)")
    p.add_argument("--only", nargs="+", metavar="NN", help="only the notebooks whose names start so (e.g. 00 05)")
    p.add_argument("--timeout", type=_positive_int, default=1800, help="seconds one cell may run (default 1800)")
    p.add_argument("--executed", metavar="DIR",
                   help="build from the notebooks a test run executed and saved into DIR "
                        "(VAE_LESSON_EXECUTED_DIR=DIR pytest notebooks --nbval-lax --nbval-current-env) "
                        "instead of executing them again")


def series_notebooks(args):
    """The notebooks --only names (None: all of them), after setting --dataset for the kernels."""
    import os

    from . import site

    if args.dataset:
        os.environ["VAE_LESSON_DATASET"] = args.dataset
    if not args.only:
        return None
    notebooks = [p for p in sorted(site.NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
                 if any(p.name.startswith(prefix) for prefix in args.only)]
    if not notebooks:
        raise ValueError(f"no notebook starts with {', '.join(args.only)}")
    return notebooks


def cmd_site(args):
    import os

    from . import site

    notebooks = series_notebooks(args)
    with mode_setting(args):  # the kernels that execute the notebooks read it from the environment
        print(f"Building the site of {len(notebooks) if notebooks else 'all'} notebooks on "
              f"{config.dataset_name()} ({config.by_mode('full', 'quick')} mode; models from "
              f"{config.cache_dir()}) into {args.out_dir}", file=sys.stderr)
        start = time.perf_counter()
        try:
            pages = site.build(args.out_dir, notebooks=notebooks, timeout=args.timeout, log=site.main_log,
                               executed=args.executed, student=args.student, core=args.core)
        except site.SiteError as err:
            raise RuntimeError(str(err)) from None
    print(f"wrote {len(pages)} pages and index.html to {args.out_dir} in {time.perf_counter() - start:.0f} s; "
          f"open {os.path.join(args.out_dir, 'index.html')} in a browser, or serve the folder as it is")
    return None


def add_site_parser(sub):
    p = sub.add_parser("site", help="execute the notebooks and build the series' static website",
                       description="Execute every notebook on a fresh kernel (a failing cell stops the "
                                   "build) and write a static website into OUT_DIR: one page per "
                                   "notebook with its figures, numbers and math, an index, and MathJax, "
                                   "so the folder works offline, from disk or from any static host. "
                                   "Models come from the cache ($VAE_LESSON_CACHE_DIR): run "
                                   "`vae-lesson prepare` first for a quick build. Needs the `site` extra.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the site (replaced if it exists)")
    add_series_arguments(p)
    p.add_argument("--student", metavar="DIR",
                   help="the students' site: pages show the copies in the students' repository DIR (written "
                        "by `vae-lesson handout DIR`), without solutions, with its README and Colab links")
    p.add_argument("--core", action="store_true",
                   help="each page shows the notebook's core path: the sections tagged deep-dive left out "
                        "(with --student, the students' repository must be written with --core too)")
    p.set_defaults(func=cmd_site, show=None, json=False, mode=None)


# --- slides --------------------------------------------------------------------------------------

def cmd_slides(args):
    import os

    from . import site, slides

    notebooks = series_notebooks(args)
    with mode_setting(args):
        start = time.perf_counter()
        try:
            decks = slides.build(args.out_dir, notebooks=notebooks, executed=args.executed,
                                 deep_dives=args.deep_dives, reveal=args.reveal, timeout=args.timeout,
                                 log=site.main_log)
        except (site.SiteError, slides.SlidesError) as err:
            raise RuntimeError(str(err)) from None
    print(f"wrote {len(decks)} decks ({sum(d['slides'] for d in decks)} slides, "
          f"{sum(d['figures'] for d in decks)} figures) to {args.out_dir} in {time.perf_counter() - start:.0f} s; "
          f"open {os.path.join(args.out_dir, 'index.html')} in a browser"
          + ("" if args.reveal else f" (reveal.js comes from {slides.REVEAL_CDN}: online, or use --reveal)"))
    return None


def add_slides_parser(sub):
    p = sub.add_parser("slides", help="lecture slides (reveal.js) of each notebook's core path, and its figures",
                       description="Write into OUT_DIR one reveal.js deck per notebook, made by nbconvert's "
                                   "slides exporter from the executed notebook: the title and each core "
                                   "section start a slide, every other cell is a sub-slide below it, each "
                                   "figure gets a slide of its own with its 'What you should see' line and "
                                   "the numbers its cell printed; solutions are stubbed and the setup cell "
                                   "left out. Every figure is also written as a PNG with figures.md (caption "
                                   "and numbers). Needs the `site` extra.")
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder for the slides (replaced if it exists)")
    add_series_arguments(p)
    p.add_argument("--deep-dives", action="store_true", help="also the sections tagged deep-dive")
    p.add_argument("--reveal", metavar="PATH",
                   help="a local reveal.js 4 (a folder, or the .tgz of `npm pack reveal.js@4`), copied into "
                        "OUT_DIR so the slides work offline; default: loaded from a CDN")
    p.set_defaults(func=cmd_slides, show=None, json=False, mode=None)


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

SETTINGS_HELP = """settings, read from the environment by the notebooks and by these commands:
  VAE_LESSON_DATASET        mnist (default), mnist-5k (5,000 MNIST digits, no download), fashion-mnist, digits
  VAE_LESSON_QUICK          1: fewer epochs and smaller sizes (quick mode); 0: full mode (default)
  VAE_LESSON_SEED           the seed of every notebook and its models (default 0)
  VAE_LESSON_DEVICE         force a device: cpu, cuda, cuda:1, mps (default: the best one here)
  VAE_LESSON_DATA_DIR       where data sets are downloaded or found (default ~/.cache/vae_lesson/data)
  VAE_LESSON_CACHE_DIR      where trained models are cached; a read-only prepared folder works
  VAE_LESSON_CLAIMS         show (default): a claim a run does not support is shown in a box; raise: it fails
  VAE_LESSON_CLAIMS_LEDGER  a file each claim is appended to (set by `vae-lesson claims`)
  VAE_LESSON_NOTEBOOK       the notebook's name in that file (set by `vae-lesson claims`)
  VAE_LESSON_STATIC         1: widgets drawn as static figures (set under tests)
In Colab, set one with `%env VAE_LESSON_SEED=1` in a cell before `import vae_lesson`."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="vae-lesson", description="Helpers for the VAE lesson notebooks.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SETTINGS_HELP)
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
                                   "Prepare the mode the students will use (--quick or --full, as for "
                                   "`vae-lesson site`; default: $VAE_LESSON_QUICK): the other mode's "
                                   "models are others. Writes into $VAE_LESSON_CACHE_DIR.")
    add_mode_arguments(p)
    p.add_argument("--dataset", choices=DATASETS, help=ds_help)
    p.add_argument("--only", nargs="+", metavar="RECIPE", help="prepare only these recipes")
    p.add_argument("--list", action="store_true", help="list the recipes and stop")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_prepare, show=None, json=False)

    p = sub.add_parser("bench", help="training speed of fit vs a DataLoader loop and a minimal hand-written loop (JSON)",
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
    p.add_argument("--loops", nargs="+", choices=bench_loops(), default=list(bench_loops()),
                   help="contenders (default all): fit, dataloader (PIL + ToTensor + DataLoader), "
                        "minimal (a hand-written MLP loop without torch.distributions, mlp only)")
    p.add_argument("--per-step", type=_positive_int, metavar="N",
                   help="instead: N steps of fit's training step against the minimal loop's, "
                        "alternating on the same batches (MLP; steadier than whole epochs)")
    p.set_defaults(func=cmd_bench, show=None, json=True)

    p = sub.add_parser("timings", help="how long each notebook takes, cold and warm",
                       description="Execute each notebook as a student does (a fresh kernel each, "
                                   "top to bottom, static widgets), first with an empty model cache "
                                   "(cold), then with the models the first pass cached (warm), and "
                                   "print per notebook: cold and warm seconds, models trained, "
                                   "seconds training and in importance-sampled likelihoods, the "
                                   "longest cell. Uses a new temporary cache: yours is not touched.")
    p.add_argument("notebooks", nargs="*", help="notebooks in reading order (default: "
                                                "notebooks/NN_*.ipynb under the current folder)")
    p.add_argument("--dataset", choices=DATASETS, help=ds_help)
    p.add_argument("--full", action="store_true", help="full mode (default: quick mode, "
                                                       "VAE_LESSON_QUICK=1)")
    p.add_argument("--isolated", action="store_true",
                   help="empty the cache before each notebook (default: the series in order "
                        "shares one cache, as for a student who reads it in order)")
    p.add_argument("--cold-only", action="store_true", help="skip the warm pass")
    p.add_argument("--keep-going", action="store_true",
                   help="run every cell even after one fails, and list the failing cells (to time data "
                        "on which the claims are not expected to hold, such as a tiled subset)")
    p.add_argument("--cache-dir", help="an empty or new folder to use as the model cache "
                                       "(default: a temporary one, deleted afterwards)")
    p.add_argument("--timeout", type=_positive_int, default=1800, help="seconds per cell (default 1800)")
    p.add_argument("--markdown", action="store_true", help="print the table in Markdown")
    p.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    p.set_defaults(func=cmd_timings, show=show_timings)

    add_claims_parser(sub)
    add_handout_parser(sub)
    add_map_parser(sub)
    add_site_parser(sub)
    add_slides_parser(sub)
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
    if isinstance(result, int):  # a command's own exit status (claims: 1 when a claim failed)
        return result
    if result is not None:
        if args.json:
            indent = 2 if args.command == "bench" else None  # train --json: one line
            print(json.dumps(result, indent=indent), file=stdout)
        else:
            args.show(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
