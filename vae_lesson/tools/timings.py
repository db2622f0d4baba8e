"""How long a student waits: each notebook executed as a student runs it, timed.

`vae-lesson timings` runs every notebook on a fresh kernel, top to bottom, twice: first with an
empty model cache (cold: the models are trained), then again with the cache the first pass left
(warm: the models are loaded). Widgets draw static figures (VAE_LESSON_STATIC=1), as under tests.
For each notebook it reports the wall time (kernel start-up included), the number of models
trained, the seconds spent training them and in importance-sampled likelihoods, and the longest
cell (its index in the notebook and its seconds, from the kernel's execution timestamps).

Inside a kernel, the package itself counts what it did: `fit` and `log_likelihood` call
`vae_lesson.timings.record` (the counter, a helper: vae_lesson/timings.py), and at the end of its run
each kernel is asked for `vae_lesson.timings.summary()`. This module is the runner only.
"""
import contextlib
import json
import os
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from .. import timings as counter  # the counter the kernels run (vae_lesson/timings.py)

_MARKER = "__VAE_LESSON_TIMINGS__"


# --- executing notebooks -----------------------------------------------------------------------

@contextlib.contextmanager
def _environment(**settings):
    """os.environ with these settings (None removes one), restored afterwards; kernels started
    meanwhile inherit it."""
    saved = {key: os.environ.get(key) for key in settings}
    try:
        for key, value in settings.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = str(value)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _seconds(metadata):
    """A cell's run time from nbclient's record_timing timestamps (None if not recorded)."""
    timing = metadata.get("execution", {})
    start = timing.get("iopub.execute_input") or timing.get("iopub.status.busy")
    end = timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _probe_cell(nbformat):
    """A last cell that prints what the kernel's counter recorded (vae_lesson.timings.summary())."""
    code = (f"import json as _json, {counter.__name__} as _vt\n"
            f"print({_MARKER!r} + _json.dumps(_vt.summary()))")
    return nbformat.v4.new_code_cell(code)


def _probe_result(cell):
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        if _MARKER in text:
            return json.loads(text.split(_MARKER, 1)[1].strip().splitlines()[0])
    return {}


def run_notebook(path, timeout=1800, kernel_name="python3", keep_going=False):
    """Execute the notebook at `path` on a fresh kernel (in its own folder, the current
    environment) and return its timing: wall seconds (kernel start included), per-cell seconds,
    the longest cell, and what the package recorded (models trained, seconds training).
    keep_going=True runs every cell even after one fails, and lists the failing cells."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    n_cells = len(nb.cells)
    nb.cells.append(_probe_cell(nbformat))
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, record_timing=True,
                            allow_errors=keep_going,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as err:  # a failing cell: its time so far is reported, and the error
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:200] if str(err).strip() else ''}"
    wall = time.perf_counter() - start
    failed = [i for i, cell in enumerate(nb.cells[:n_cells])
              if any(out.get("output_type") == "error" for out in cell.get("outputs", []))]
    if failed and error is None:
        error = f"cells {', '.join(map(str, failed))} failed"
    recorded = _probe_result(nb.cells[-1])
    cells = [(i, _seconds(cell.metadata)) for i, cell in enumerate(nb.cells[:n_cells])
             if cell.cell_type == "code"]
    cells = [(i, s) for i, s in cells if s is not None]
    longest = max(cells, key=lambda c: c[1]) if cells else (None, None)
    first_line = (nb.cells[longest[0]].source.strip().splitlines() or [""])[0] if cells else ""
    fit = recorded.get("fit", {"count": 0, "seconds": 0.0})
    ll = recorded.get("log_likelihood", {"count": 0, "seconds": 0.0})
    return {"notebook": path.stem, "seconds": wall, "cells": cells,
            "longest_cell": longest[0], "longest_seconds": longest[1],
            "longest_source": first_line[:80],
            "models_trained": fit["count"], "training_seconds": fit["seconds"],
            "log_likelihood_seconds": ll["seconds"], "recorded": recorded, "error": error,
            "failed_cells": failed}


def run(notebooks, quick=True, dataset=None, warm=True, isolated=False, cache_dir=None,
        timeout=1800, progress=print, keep_going=False):
    """Time `notebooks` (paths, in reading order) cold, then warm.

    The model cache is a new empty folder (or `cache_dir`, which must be empty or absent), so a
    user's own cache is never read or touched; `isolated=True` empties it before each notebook's
    cold run (each notebook alone), else the cold pass runs the series in order, as a student
    does, and a model an earlier notebook trained is loaded by a later one. Returns a JSON-ready
    dict with one row per notebook."""
    notebooks = [Path(p) for p in notebooks]
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise ValueError(f"no such notebook: {', '.join(missing)}")
    if not notebooks:
        raise ValueError("no notebooks to time")
    own_folder = cache_dir is None
    cache = Path(tempfile.mkdtemp(prefix="vae-lesson-timings-")) if own_folder else Path(cache_dir)
    if cache.exists() and any(cache.iterdir()):
        raise ValueError(f"cache folder {cache} is not empty: a cold run needs an empty one "
                         f"(give a new folder, or none for a temporary one)")
    settings = {"VAE_LESSON_CACHE_DIR": cache, "VAE_LESSON_QUICK": "1" if quick else "0",
                "VAE_LESSON_STATIC": "1",
                # figures drawn as in JupyterLab and Colab (Agg would skip drawing them at plt.show())
                "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if dataset:
        settings["VAE_LESSON_DATASET"] = dataset
    rows = {}
    try:
        with _environment(**settings):
            for name in [p.stem for p in notebooks]:
                rows[name] = {"notebook": name}
            for stage in ("cold", "warm") if warm else ("cold",):
                for path in notebooks:
                    if stage == "cold" and isolated and cache.exists():
                        shutil.rmtree(cache)
                    before = _cache_files(cache)
                    result = run_notebook(path, timeout=timeout, keep_going=keep_going)
                    added = len(set(_cache_files(cache)) - set(before))
                    rows[path.stem][stage] = {**result, "cache_files_added": added}
                    if progress:
                        progress(f"{stage:4s} {path.stem}: {result['seconds']:.1f} s, "
                                 f"{result['models_trained']} models trained"
                                 + (f"; FAILED: {result['error']}" if result["error"] else ""))
    finally:
        if own_folder:
            shutil.rmtree(cache, ignore_errors=True)
    return {
        "mode": "quick" if quick else "full",
        "dataset": dataset or os.environ.get("VAE_LESSON_DATASET", "mnist"),
        "cold_cache": "each notebook alone" if isolated else "series in reading order",
        "date": datetime.now().astimezone().isoformat(timespec="minutes"),
        "machine": _machine(),
        "notebooks": list(rows.values()),
        "total_cold_seconds": sum(r["cold"]["seconds"] for r in rows.values()),
        "total_warm_seconds": (sum(r["warm"]["seconds"] for r in rows.values()) if warm else None),
    }


def _cache_files(folder):
    return sorted(p.name for p in Path(folder).glob("*.pt")) if Path(folder).is_dir() else []


def _cpu_name():
    """The CPU's model name (Linux: /proc/cpuinfo), else what platform knows."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine():
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
            "processor": _cpu_name(),
            "load_average_at_end": [round(x, 2) for x in load] if load else None}


def format_table(result):
    """The result of `run` as a text table."""
    warm = result["total_warm_seconds"] is not None
    lines = [f"{result['mode']} mode, {result['dataset']}, cold cache: {result['cold_cache']}, "
             f"{result['date']}, {result['machine']['cpus']} CPUs ({result['machine']['processor']}), "
             f"load {result['machine']['load_average_at_end']}",
             f"{'notebook':28s} {'cold s':>7s} {'warm s':>7s} {'models':>6s} {'train s':>7s} "
             f"{'IS s':>6s}  longest cell (cold)"]
    for row in result["notebooks"]:
        cold = row["cold"]
        warm_s = f"{row['warm']['seconds']:7.1f}" if warm else f"{'-':>7s}"
        longest = ("-" if cold["longest_cell"] is None else
                   f"cell {cold['longest_cell']}: {cold['longest_seconds']:.1f} s  "
                   f"({cold['longest_source']})")
        lines.append(f"{row['notebook']:28s} {cold['seconds']:7.1f} {warm_s} "
                     f"{cold['models_trained']:6d} {cold['training_seconds']:7.1f} "
                     f"{cold['log_likelihood_seconds']:6.1f}  {longest}")
    total_warm = f"{result['total_warm_seconds']:7.1f}" if warm else f"{'-':>7s}"
    lines.append(f"{'all':28s} {result['total_cold_seconds']:7.1f} {total_warm}")
    failed = [f"{row['notebook']} ({stage}): {row[stage]['error']}" for row in result["notebooks"]
              for stage in ("cold", "warm") if row.get(stage, {}).get("error")]
    lines += [f"FAILED {line}" for line in failed]
    return "\n".join(lines)


def format_markdown(result):
    """The result of `run` as a Markdown table (as in the README)."""
    warm = result["total_warm_seconds"] is not None
    lines = ["| notebook | cold s | warm s | models trained | longest cell (cold) |",
             "|---|---:|---:|---:|---|"]
    for row in result["notebooks"]:
        cold = row["cold"]
        longest = ("-" if cold["longest_cell"] is None
                   else f"cell {cold['longest_cell']}, {cold['longest_seconds']:.0f} s")
        warm_s = f"{row['warm']['seconds']:.0f}" if warm else "-"
        failed = " (failed)" if cold.get("error") else ""
        lines.append(f"| {row['notebook']}{failed} | {cold['seconds']:.0f} | {warm_s} | "
                     f"{cold['models_trained']} | {longest} |")
    total_warm = f"{result['total_warm_seconds']:.0f}" if warm else "-"
    lines.append(f"| all | {result['total_cold_seconds']:.0f} | {total_warm} | "
                 f"{sum(r['cold']['models_trained'] for r in result['notebooks'])} | |")
    return "\n".join(lines)
