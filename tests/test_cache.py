"""The model cache with real files and real processes: damaged files, files of another version or
architecture, a read-only prepared folder (as a user who cannot write it), many writers at once."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import torch

import vae_lesson as vl
from vae_lesson import cache

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(dataset="digits", hidden=8, latent_dim=2, epochs=1, device="cpu", progress=False)


def _files(folder):
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).is_dir() else []


def test_cached_says_where_the_object_came_from():
    first = vl.train.cached_vae(**TINY)
    again = vl.train.cached_vae(**TINY)
    assert (first.from_cache, again.from_cache) == (False, True)
    assert first.path == again.path and first.path.exists()
    assert _files(vl.config.cache_dir()) == [first.path.name]  # no temporary file left behind


def test_damaged_file_is_rebuilt_with_a_warning_naming_it():
    path = vl.train.cached_vae(**TINY).path
    path.write_bytes(path.read_bytes()[:100])  # a half-written file
    with pytest.warns(UserWarning, match=f"{path.name}.*could not be read.*rebuilding"):
        rebuilt = vl.train.cached_vae(**TINY)
    assert not rebuilt.from_cache
    assert vl.train.cached_vae(**TINY).from_cache  # and saved again, whole


def test_file_of_another_version_is_rebuilt():
    path = vl.train.cached_vae(**TINY).path
    state = torch.load(path, weights_only=True)
    torch.save({**state, "format": cache.FORMAT - 1}, path)
    with pytest.warns(UserWarning, match=f"{path.name}.*another version"):
        assert not vl.train.cached_vae(**TINY).from_cache


def test_state_dict_of_another_architecture_is_rebuilt():
    path = vl.train.cached_vae(**TINY).path
    state = torch.load(path, weights_only=True)
    torch.manual_seed(0)
    other = vl.make_vae(hidden=16, latent_dim=2)  # other layer sizes: load_state_dict refuses it
    torch.save({**state, "state_dict": other.state_dict()}, path)
    with pytest.warns(UserWarning, match=f"{path.name} does not fit.*rebuilding"):
        rebuilt = vl.train.cached_vae(**TINY)
    assert not rebuilt.from_cache
    assert rebuilt.value[0].encoder.net[1].out_features == 8


def test_a_change_of_format_is_a_new_file(monkeypatch):
    path = cache.path_for("vae", {"a": 1})
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
    assert cache.path_for("vae", {"a": 1}) != path
    assert cache.path_for("vae", {"a": 2}) != cache.path_for("vae", {"a": 1})


def test_classifier_goes_through_the_same_cache():
    first = vl.metrics.digit_classifier("digits", device="cpu", progress=False)
    (path,) = Path(vl.config.cache_dir()).glob("classifier-digits-*.pt")
    path.write_bytes(b"damaged")
    with pytest.warns(UserWarning, match="could not be read"):
        again = vl.metrics.digit_classifier("digits", device="cpu", progress=False)
    for a, b in zip(first.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)  # seeded: the same instrument


# --- a course hub: a prepared folder the students cannot write to ---------------------------------

READ_ONLY_CHECK = textwrap.dedent("""
    import json, warnings
    import vae_lesson as vl
    settings = json.loads({settings!r})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepared = vl.train.cached_vae(**settings)
        unprepared = vl.train.cached_vae(**{{**settings, "seed": 7}})
    print(json.dumps({{"prepared": prepared.from_cache, "unprepared": unprepared.from_cache,
                       "trained_epochs": len(unprepared.value[1]["epoch"]),
                       "warnings": [str(w.message) for w in caught]}}))
""")


def _run_as_user_who_cannot_write(folder, code, env):
    """Run `code` in a fresh Python that the kernel refuses writes to the read-only `folder`: as
    the user nobody when this process is root and nobody can run this Python; else, as root, with
    the capabilities that let root ignore file permissions dropped (setpriv); as anyone else, as
    this user."""
    command = [sys.executable, "-c", code]
    if os.geteuid() != 0:
        return subprocess.run(command, env=env, capture_output=True, text=True)
    home = Path(tempfile.mkdtemp(prefix="student-home-"))
    home.chmod(0o777)
    env = {**env, "HOME": str(home), "MPLCONFIGDIR": str(home)}
    try:
        import pwd

        nobody = pwd.getpwnam("nobody")
        return subprocess.run(command, env=env, capture_output=True, text=True,
                              user=nobody.pw_uid, group=nobody.pw_gid, extra_groups=[])
    except (ImportError, KeyError, PermissionError):  # no such user, or this Python is private to root
        pass
    if shutil.which("setpriv") is None:
        pytest.skip("running as root, no other user can run this Python, and setpriv is missing")
    drop = "-dac_override,-dac_read_search,-fowner,-linux_immutable"
    return subprocess.run(["setpriv", f"--bounding-set={drop}", "--", *command], env=env,
                          capture_output=True, text=True)


def test_read_only_prepared_folder_serves_and_never_writes(monkeypatch):
    folder = Path(tempfile.mkdtemp(prefix="prepared-cache-"))  # not under pytest's private tmp
    folder.chmod(0o755)
    monkeypatch.setenv("VAE_LESSON_CACHE_DIR", str(folder))
    vl.train.cached_vae(**TINY)  # the lecturer prepares one model, then makes the folder read-only
    for p in folder.iterdir():
        p.chmod(0o444)
    folder.chmod(0o555)
    before = _files(folder)
    env = {**os.environ, "VAE_LESSON_CACHE_DIR": str(folder),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = _run_as_user_who_cannot_write(folder, READ_ONLY_CHECK.format(settings=json.dumps(TINY)), env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["prepared"] is True                      # the prepared model loads
    assert report["unprepared"] is False and report["trained_epochs"] == 1  # trained and returned
    assert any("could not save" in w and str(folder) in w for w in report["warnings"]), report
    assert _files(folder) == before                        # nothing written, no stray file


# --- a class starting the same notebook at once -----------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, time, torch
    from pathlib import Path
    import vae_lesson as vl
    from vae_lesson import cache
    go = Path(sys.argv[1])
    while not go.exists():
        time.sleep(0.01)
    result = vl.train.cached_vae(dataset="digits", hidden=8, latent_dim=2, epochs=1, device="cpu",
                                 progress=False)
    state = {"format": cache.FORMAT, "settings": torch.load(result.path, weights_only=True)["settings"],
             "state_dict": result.value[0].state_dict(), "history": result.value[1]}
    for _ in range(20):  # and hammer the same file: every save races the other processes' saves
        cache._write(result.path, state)
    print("ok")
""")


def test_many_processes_filling_one_folder_at_once(tmp_path):
    folder = tmp_path / "shared-cache"
    go = tmp_path / "go"
    env = {**os.environ, "VAE_LESSON_CACHE_DIR": str(folder),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(go)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(4)]
    go.touch()
    outcomes = [w.communicate(timeout=300) for w in writers]
    for w, (out, err) in zip(writers, outcomes):
        assert w.returncode == 0 and out.strip() == "ok", err
    files = _files(folder)
    assert len(files) == 1 and files[0].endswith(".pt"), files  # no half-written or stray file
    state = torch.load(folder / files[0], weights_only=True)
    assert state["format"] == cache.FORMAT and len(state["history"]["epoch"]) == 1


def test_a_cache_prepared_in_one_mode_does_not_serve_the_other(monkeypatch):
    """The hub recipe's warning: quick and full mode train different models (other epochs), so a cache prepared
    for one mode makes every kernel in the other train its own."""
    tiny = dict(dataset="digits", hidden=8, latent_dim=2, device="cpu", progress=False)  # epochs from the mode
    monkeypatch.setitem(vl.train.EPOCHS, "digits", (2, 1))  # (full, quick), short for the test
    monkeypatch.setenv("VAE_LESSON_QUICK", "1")
    prepared = vl.train.cached_vae(**tiny)
    assert vl.train.cached_vae(**tiny).from_cache is True      # a quick-mode kernel loads it
    monkeypatch.setenv("VAE_LESSON_QUICK", "0")
    other = vl.train.cached_vae(**tiny)
    assert other.from_cache is False and other.path != prepared.path  # a full-mode kernel trains anew
    assert len(other.value[1]["epoch"]) == vl.train.EPOCHS["digits"][0] != len(prepared.value[1]["epoch"])
