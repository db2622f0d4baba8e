"""One load-or-build helper for every trained object (VAEs, the digit classifier).

A trained object is saved as one file in the cache folder (VAE_LESSON_CACHE_DIR), named by what it
is and a hash of its settings, the data set and FORMAT, so a change of any of them is a new file.
The cache never breaks a class:
- a file it cannot use (damaged, written by another version, a state that does not fit the model)
  counts as missing: the object is rebuilt, with a warning that names the file;
- a folder the user cannot write (a lecturer's prepared folder on a course hub) still serves what
  was prepared; an object nobody prepared is built, returned, and a warning says it was not saved;
- many processes may fill one folder at once: each writes its own temporary file and renames it
  into place in one step, so no reader ever sees half a file and no writer trips over another.
Loaded or built, the caller's random numbers are left as they were.
"""
import hashlib
import json
import os
import tempfile
import warnings
from typing import Any, NamedTuple

import torch

from . import config

# Bump when a change of the model code changes what a saved state means: old files are then
# ignored (they have other names) and rebuilt.
FORMAT = 2


class Cached(NamedTuple):
    value: Any         # the object, loaded or built
    from_cache: bool   # True when it was loaded from a file
    path: Any          # the file it was loaded from or saved to (or would have been saved to)


def path_for(stem, settings):
    """The cache file of an object named `stem` with these settings (a JSON-able dict)."""
    text = json.dumps({"settings": settings, "format": FORMAT}, sort_keys=True)
    return config.cache_dir() / f"{stem}-{hashlib.sha1(text.encode()).hexdigest()[:12]}.pt"


def load_or_build(stem, settings, build, restore, device=None):
    """`restore(state)` from the cache file of (stem, settings) if there is a usable one, else
    `build()`, which returns (value, state): the state is saved (state None: nothing is saved,
    e.g. for an interrupted training). restore may raise on a state that does not fit: the file
    then counts as missing. Returns Cached(value, from_cache, path)."""
    path = path_for(stem, settings)
    devices = [device] if device is not None and torch.device(device).type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        state = _read(path, settings)
        if state is not None:
            try:
                return Cached(restore(state), True, path)
            except Exception as err:  # e.g. a state dict of another architecture
                _warn(f"cached file {path} does not fit ({type(err).__name__}: {_first_line(err)}); rebuilding it")
        value, state = build()
    if state is not None:
        _write(path, {"format": FORMAT, "settings": settings, **state})
    return Cached(value, False, path)


def _first_line(err):
    return str(err).strip().splitlines()[0] if str(err).strip() else ""


def _warn(message):
    warnings.warn(message, stacklevel=4)


def _read(path, settings):
    """The saved state at `path`, or None if there is none or it cannot be used (with a warning)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        return None
    except Exception as err:
        # The reason only: torch's message for a damaged file suggests weights_only=False, wrong here.
        _warn(f"cached file {path} could not be read ({type(err).__name__}: damaged, or written by "
              f"another version); rebuilding it")
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("settings") != settings:
        _warn(f"cached file {path} was written by another version or for other settings; rebuilding it")
        return None
    return state


def _write(path, state):
    """Save through a temporary file of this process's own, renamed into place in one step."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            torch.save(state, f)
        os.replace(tmp, path)
        tmp = None
    except OSError as err:
        _warn(f"could not save {path} ({type(err).__name__}: {err.strerror or err}); the object is "
              f"used for this session only. To keep it, set VAE_LESSON_CACHE_DIR to a folder you can "
              f"write to (a prepared read-only folder still serves the models prepared in it).")
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
