#!/usr/bin/env bash
# Colab's environment, rebuilt here: a fresh virtual environment with the versions Colab preloads
# (.ci/colab-versions.txt, the one file to edit when Colab changes), plus pytest and nbval, which
# Colab lacks, installed BEFORE the snapshot. Then the notebooks' own setup cell installs
# vae_lesson from this checkout with the same pip arguments it uses in Colab; the check fails if
# that install changed any package that was already there (Colab would need a restart, or break).
# Last, every notebook runs under nbval in quick mode on the digits, in that environment.
#
#   bash .ci/colab_check.sh              the whole check (as CI runs it)
#   COLAB_CHECK_NOTEBOOKS=0 bash ...     stop after the install check
#   COLAB_CHECK_REUSE=1 bash ...         keep $COLAB_VENV if it holds exactly what its first install
#                                        put there (baseline.txt), else build it afresh
# Wheels are kept in $COLAB_WHEELS (default ~/.cache/vae_lesson/colab-wheels): torch's CUDA build is
# several GB, downloaded once per machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PINS=.ci/colab-versions.txt
VENV=${COLAB_VENV:-$ROOT/.venv-colab}
PYTHON=${COLAB_PYTHON:-python3}
WHEELS=${COLAB_WHEELS:-$HOME/.cache/vae_lesson/colab-wheels}
TOOLS=(pytest nbval)  # not in Colab; needed to run the notebooks as tests
say() { echo "colab check: $*"; }
start=$SECONDS

colab_python=$(sed -n 's/^# python: *//p' "$PINS")
say "Colab's versions from $PINS ($(sed -n 's/^# date: *//p' "$PINS")); Colab runs Python $colab_python," \
    "this check runs on $("$PYTHON" --version 2>&1 | cut -d' ' -f2) (this machine's own)"

PY="$VENV/bin/python"
mkdir -p "$WHEELS"
install_pins() { "$PY" -m pip install -q --no-index --find-links "$WHEELS" -r "$PINS" "${TOOLS[@]}"; }
freeze() { "$PY" -m pip list --format=freeze | sort; }
reused=0
if [ "${COLAB_CHECK_REUSE:-0}" = "1" ] && [ -x "$PY" ] && [ -f "$VENV/baseline.txt" ]; then
    "$PY" -m pip uninstall -q -y vae_lesson 2>/dev/null || true
    # the pins as they are now, and exactly the packages the first install left (nothing added since)
    if grep -qxF "# $(sha256sum "$PINS" | cut -d' ' -f1) $("$PYTHON" --version 2>&1)" "$VENV/baseline.txt" \
        && diff -q <(grep -v '^#' "$VENV/baseline.txt") <(freeze) >/dev/null; then
        reused=1
        say "reusing $VENV: it holds exactly what its first install put there (the checks below still apply)"
    else
        say "$VENV differs from its first install (or the pins changed): building it afresh"
    fi
fi
if [ "$reused" = 0 ]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi
if [ "$reused" = 1 ]; then
    :
elif ! install_pins 2>/dev/null; then
    say "downloading the pinned wheels into $WHEELS (once per machine; torch's CUDA build is several GB)"
    t=$SECONDS
    if ! "$PY" -m pip download -q -d "$WHEELS" -r "$PINS" "${TOOLS[@]}"; then
        say "FAILED: a pinned version cannot be installed on Python $("$PY" -c 'import platform; print(platform.python_version())')" \
            "(pip's message above); edit $PINS only to follow Colab, never to make this pass"
        exit 1
    fi
    say "downloaded in $((SECONDS - t)) s"
    install_pins
fi
if [ "$reused" = 0 ]; then
    { echo "# $(sha256sum "$PINS" | cut -d' ' -f1) $("$PYTHON" --version 2>&1)"; freeze; } > "$VENV/baseline.txt"
fi
say "Colab's packages ready in $((SECONDS - start)) s"

# Every pinned package really is at its pinned version (pip could have resolved otherwise).
"$PY" - "$PINS" <<'EOF'
import importlib.metadata as md, re, sys
wrong = []
for line in open(sys.argv[1]):
    m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
    if m and md.version(m[1]) != m[2]:
        wrong.append(f"{m[1]} {md.version(m[1])} (pinned {m[2]})")
if wrong:
    sys.exit("colab check: FAILED: not Colab's versions: " + ", ".join(wrong))
EOF

"$PY" -m pip list --format=freeze | sort > "$VENV/before.txt"
say "running the notebooks' setup cell (google.colab faked, REPO_URL = this checkout)"
"$PY" .ci/colab_setup_cell.py
"$PY" -m pip list --format=freeze | sort > "$VENV/after.txt"
"$PY" - "$VENV/before.txt" "$VENV/after.txt" <<'EOF'
import sys
read = lambda p: dict(line.strip().split("==", 1) for line in open(p) if "==" in line)
before, after = read(sys.argv[1]), read(sys.argv[2])
norm = lambda n: n.lower().replace("_", "-")
changed = [f"{n} {before[n]} -> {after.get(n, '(removed)')}" for n in before if after.get(n) != before[n]]
added = [f"{n} {v}" for n, v in after.items() if n not in before]
if changed:
    sys.exit("colab check: FAILED: installing vae_lesson changed packages Colab preloads: "
             + ", ".join(changed) + ". Lower the bound in pyproject.toml that forces this.")
if [norm(a.split()[0]) for a in added] != ["vae-lesson"]:
    sys.exit("colab check: FAILED: the install should add vae_lesson alone, it added: " + ", ".join(added))
print("colab check: the install added", added[0], "and changed nothing else")
EOF
# The notebooks' kernels must import the installed package, not this folder.
(cd /tmp && env -u PYTHONPATH "$PY" -c "import vae_lesson, sys; assert 'site-packages' in vae_lesson.__file__, vae_lesson.__file__")

if [ "${COLAB_CHECK_NOTEBOOKS:-1}" = "1" ]; then
    say "running every notebook under nbval (quick mode, digits), and the pair test with jupytext $("$PY" -c 'import jupytext; print(jupytext.__version__)')"
    t=$SECONDS
    # One thread, as newer torch picks on this machine: torch 2.11 starts two OpenMP threads on 2
    # cores, and on a busy machine they ran 200 matrix products 7x slower (10.4 s vs 1.4 s).
    env -u PYTHONPATH -u MPLBACKEND VAE_LESSON_DATASET=digits VAE_LESSON_QUICK=1 \
        OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" PYDEVD_DISABLE_FILE_VALIDATION=1 \
        VAE_LESSON_CACHE_DIR="$(mktemp -d)" \
        "$PY" -m pytest notebooks tests/test_notebooks_paired.py --nbval-lax --nbval-current-env \
        -p no:cacheprovider -q
    say "notebooks passed in $((SECONDS - t)) s"
fi
say "passed in $((SECONDS - start)) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
