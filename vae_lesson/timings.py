"""Counting inside a kernel: what the package itself did, and how long it took.

`fit` and `log_likelihood` call `record`, and `summary()` returns the counts. The timings runner
(`vae-lesson timings`, vae_lesson/tools/timings.py) executes each notebook on a fresh kernel and, at
the end of its run, asks the kernel for `summary()`: this module is the part that runs in the
kernel, a helper like the others (it imports nothing of the package).
"""
_LOG = {}


def record(kind, seconds, count=1):
    """Add `count` events of `kind` ("fit", "log_likelihood", ...) taking `seconds` in all."""
    entry = _LOG.setdefault(kind, {"count": 0, "seconds": 0.0})
    entry["count"] += count
    entry["seconds"] += seconds


def summary():
    """What this process recorded so far: {kind: {"count": n, "seconds": s}}."""
    return {kind: dict(entry) for kind, entry in _LOG.items()}


def reset():
    _LOG.clear()
