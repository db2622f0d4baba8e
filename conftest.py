# Settings for everything pytest runs here, the notebooks' nbval kernels included (they inherit
# this process's environment).
import os

# With pytest-xdist (`pytest -n auto`, as the README's test command runs), each worker and the notebook
# kernels it starts share the cores with the other workers: one worker's share of threads each, unless
# OMP_NUM_THREADS is set already (torch starts a thread per core in every process otherwise).
if os.environ.get("PYTEST_XDIST_WORKER_COUNT") and "OMP_NUM_THREADS" not in os.environ:
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))

# Under the test suite, widgets render as static figures (see vae_lesson/widgets.py).
os.environ.setdefault("VAE_LESSON_STATIC", "1")
# Under the test suite, a teaching claim that does not hold fails its cell (vae_lesson/claims.py).
os.environ.setdefault("VAE_LESSON_CLAIMS", "raise")

# Figures are rendered as in JupyterLab and Colab: a kernel started without MPLBACKEND uses the
# inline backend, so plt.show() draws a PNG and a figure that cannot be drawn (a bad LaTeX label)
# fails its cell. With MPLBACKEND=Agg, plt.show() would draw nothing and such a figure would pass.
if os.environ.pop("MPLBACKEND", None) is not None:
    print("conftest: MPLBACKEND unset, so that the notebooks' kernels render figures inline")
import matplotlib  # noqa: E402

matplotlib.use("Agg")  # this process (the unit tests) draws off-screen; kernels are not affected


# VAE_LESSON_EXECUTED_DIR=DIR: every notebook nbval runs in full without a failure is saved into DIR
# with its outputs, for `vae-lesson site OUT --executed DIR` (vae_lesson/tools/executed.py).
# In the same run, the students' copy of each exercise is checked: its stub, then its check, which must
# print its hint and stop with AssertionError (vae_lesson/tools/handout_check.py).
pytest_plugins = ["vae_lesson.tools.executed", "vae_lesson.tools.handout_check"]



def pytest_configure(config):
    # nbval's cells of one notebook share a kernel and must run in order, in one worker: with -n, each
    # test file (each notebook) goes to one worker whole (pytest-xdist's --dist loadfile).
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadfile"
