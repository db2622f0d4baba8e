"""The claims ledger: every teaching claim of the series, measured over seeds and data sets.

`vae-lesson claims` runs each notebook on a fresh kernel for every seed and data set asked for, with
VAE_LESSON_CLAIMS_LEDGER set, so that each `vl.claim` appends one JSON line (vae_lesson/claims.py).
It then writes CLAIMS.md: per notebook, each claim's threshold, null, measured range and smallest
margin (in standard errors where the notebook estimates one), flagging claims that failed on a
run, thin margins and claims without a null. A failing claim does not stop its notebook here: the
cells after it still run, so that every claim is measured on every run.

What CLAIMS.md holds below the line HAND_NOTES is kept as it is when the file is written again.
"""
import json
import math
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from .timings import _environment, run_notebook

DATASETS = ("mnist-5k", "digits")
SEEDS = (0, 1, 2)
THIN_SE = 2.0        # a margin under 2 standard errors is thin
THIN_SHARE = 0.1     # without a standard error: a margin under 10 % of the way from null to value (log scale
                     # when value, threshold and null are all positive)
HAND_NOTES = "<!-- Hand-written notes below this line are kept when `vae-lesson claims` rewrites the file. -->"


def record(notebooks, seeds=SEEDS, datasets=DATASETS, quick=True, ledger=None, cache_dir=None,
           progress=print, timeout=1800):
    """Run every notebook for every (data set, seed) with the ledger on. Returns (ledger path,
    notebook errors: a list of (notebook, dataset, seed, [cell indices]) for runs whose cells failed
    other than by a claim). Models are cached in `cache_dir` (default: a new temporary folder) across runs."""
    notebooks = [Path(p) for p in notebooks]
    missing = [str(p) for p in notebooks if not p.is_file()]
    if missing:
        raise ValueError(f"no such notebook: {', '.join(missing)}")
    ledger = Path(ledger or tempfile.mkstemp(prefix="vae-lesson-claims-", suffix=".jsonl")[1])
    cache_dir = Path(cache_dir or tempfile.mkdtemp(prefix="vae-lesson-claims-cache-"))
    errors = []
    for dataset in datasets:
        for seed in seeds:
            for path in notebooks:
                settings = {"VAE_LESSON_CLAIMS_LEDGER": ledger.resolve(), "VAE_LESSON_CLAIMS": "raise",
                            "VAE_LESSON_NOTEBOOK": path.stem, "VAE_LESSON_SEED": seed,
                            "VAE_LESSON_DATASET": dataset, "VAE_LESSON_QUICK": "1" if quick else "0",
                            "VAE_LESSON_STATIC": "1", "VAE_LESSON_CACHE_DIR": cache_dir,
                            "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
                with _environment(**settings):
                    result = run_notebook(path, timeout=timeout, keep_going=True)
                failed = _non_claim_failures(path, result, ledger, dataset, seed)
                if failed:
                    errors.append((path.stem, dataset, seed, failed))
                if progress:
                    progress(f"{dataset} seed {seed} {path.stem}: {result['seconds']:.0f} s"
                             + (f"; cells failed other than by a claim: {failed}" if failed else ""))
    return ledger, errors


def _non_claim_failures(path, result, ledger, dataset, seed):
    """The failed cells of a run beyond those that a failed claim explains (one per failed claim)."""
    failed_claims = sum(1 for r in read(ledger) if r["notebook"] == path.stem and r["dataset"] == dataset
                        and r["seed"] == seed and not r["holds"])
    extra = len(result["failed_cells"]) - failed_claims
    return result["failed_cells"] if extra > 0 else []


def read(ledger):
    with open(ledger) as f:
        return [json.loads(line) for line in f if line.strip()]


def _fmt(x):
    if x is None:
        return "—"
    if isinstance(x, (list, tuple)):
        return f"({_fmt(x[0])}, {_fmt(x[1])})"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _range(values):
    lo, hi = min(values), max(values)
    return _fmt(lo) if math.isclose(lo, hi, rel_tol=1e-3, abs_tol=1e-12) else f"{_fmt(lo)} to {_fmt(hi)}"


def _share(row):
    """The margin as a share of the distance from the null to the measured value; on a log scale when all three
    numbers are positive (a KL of 0.0002 against a threshold of 0.1 and a null of 50 has room to spare)."""
    if row["null"] is None or row["compare"] == "within":
        return None
    value, null, threshold = row["value"], row["null"], row["threshold"]
    if min(value, null, threshold) > 0:
        span = abs(math.log(value / null))
        return (abs(math.log(value / threshold)) * (1 if row["holds"] else -1)) / span if span else 0.0
    span = abs(value - null)
    return row["margin"] / span if span else 0.0


def summarise(rows):
    """Per notebook, per claim id (in the order first met): the aggregated line of the table."""
    by_claim = defaultdict(list)
    for row in rows:
        by_claim[(row["notebook"], row["id"])].append(row)
    table = defaultdict(list)
    for (notebook, claim_id), runs in by_claim.items():
        last = runs[-1]
        held = [r for r in runs if r["holds"]]  # a failed run is flagged as such, not as thin
        min_se = min((r["margin"] / r["se"] for r in held if r["se"]), default=None)
        shares = [s for s in map(_share, held) if s is not None]
        min_share = min(shares, default=None)
        flags = []
        failed = [r for r in runs if not r["holds"]]
        if failed:
            flags.append("FAILED on " + ", ".join(f"{r['dataset']} seed {r['seed']}" for r in failed))
        if any(r["null"] is None for r in runs):
            flags.append("no null")
        if min_se is not None and min_se < THIN_SE:
            flags.append(f"thin: {min_se:.1f} SE")
        elif min_se is None and min_share is not None and min_share < THIN_SHARE:
            flags.append(f"thin: {min_share:.0%} of the way from the null")
        per_dataset = defaultdict(list)
        for r in runs:
            per_dataset[r["dataset"]].append(r["value"])
        table[notebook].append({
            "id": claim_id, "statement": last["statement"], "compare": last["compare"],
            "threshold": _range([r["threshold"] for r in runs]) if last["compare"] != "within"
            else _fmt(last["threshold"]),
            "null": "—" if last["null"] is None else _range([r["null"] for r in runs if r["null"] is not None]),
            "null_is": last["null_is"], "unit": last["unit"], "runs": len(runs), "held": len(runs) - len(failed),
            "measured": "; ".join(f"{d}: {_range(v)}" for d, v in per_dataset.items()),
            "min_margin": _fmt(min(r["margin"] for r in runs)),
            "min_margin_se": None if min_se is None else f"{min_se:.1f}",
            "flags": flags,
        })
    return dict(table)


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(rows, errors=(), hand_notes=""):
    """CLAIMS.md's text for these ledger rows."""
    table = summarise(rows)
    runs = sorted({(r["dataset"], r["seed"], r["mode"], r["device"]) for r in rows})
    lines = [
        "# Claims ledger",
        "",
        "Every teaching claim the notebooks make with `vl.claim`, measured on each run below. Written by",
        "`vae-lesson claims`; regenerate it whenever a claim or its threshold changes. A claim states what the",
        "number would read if it were false (the null); its threshold lies between that and what is measured.",
        "Flags: a claim that failed on a run, a margin under "
        f"{THIN_SE:g} standard errors (or, without one, under {THIN_SHARE:.0%} of the way from the null to the",
        "measured value), a claim without a null.",
        "",
        f"Written {datetime.now().astimezone().isoformat(timespec='minutes')} from {len(rows)} measurements; runs: "
        + ", ".join(f"{d} seed {s} ({m}, {dev})" for d, s, m, dev in runs) + ".",
        "",
    ]
    for notebook in sorted(table):
        lines += [f"## {notebook}", "",
                  "| claim | statement | holds if | null (what it would read if false) | measured | "
                  "smallest margin | held | flags |",
                  "|---|---|---|---|---|---|---:|---|"]
        for c in table[notebook]:
            unit = f" {c['unit']}" if c["unit"] else ""
            holds_if = (f"in {c['threshold']}" if c["compare"] == "within" else f"{c['compare']} {c['threshold']}")
            margin = c["min_margin"] + unit + (f" ({c['min_margin_se']} SE)" if c["min_margin_se"] else "")
            lines.append("| " + " | ".join(_cell(x) for x in (
                f"`{c['id']}`", c["statement"], holds_if + unit, f"{c['null']} ({c['null_is']})",
                c["measured"], margin, f"{c['held']}/{c['runs']}", "; ".join(c["flags"]) or "")) + " |")
        lines.append("")
    if errors:
        lines += ["## Cells that failed other than by a claim", ""]
        lines += [f"- {nb}, {d} seed {s}: cell{'s' if len(cells) > 1 else ''} {', '.join(map(str, cells))}"
                  for nb, d, s, cells in errors]
        lines.append("")
    lines += [HAND_NOTES, hand_notes.strip("\n"), ""] if hand_notes.strip() else [HAND_NOTES, ""]
    return "\n".join(lines)


def write(out, rows, errors=()):
    """Write CLAIMS.md at `out`, keeping the hand-written notes below HAND_NOTES of the file there."""
    out = Path(out)
    hand = ""
    if out.is_file() and HAND_NOTES in out.read_text():
        hand = out.read_text().split(HAND_NOTES, 1)[1]
    out.write_text(markdown(rows, errors, hand))
    return out


def flagged(rows):
    """The claims with a flag, as (notebook, id, flags)."""
    return [(nb, c["id"], c["flags"]) for nb, claims in summarise(rows).items() for c in claims if c["flags"]]


def main(notebooks, out, seeds=SEEDS, datasets=DATASETS, quick=True, ledger=None, cache_dir=None):
    ledger, errors = record(notebooks, seeds, datasets, quick, ledger, cache_dir)
    rows = read(ledger)
    path = write(out, rows, errors)
    marked = flagged(rows)
    print(f"{len(rows)} measurements of {len({(r['notebook'], r['id']) for r in rows})} claims; "
          f"ledger {ledger}; wrote {path}")
    for nb, claim_id, flags in marked:
        print(f"  {nb} {claim_id}: {'; '.join(flags)}")
    failed = any(f.startswith("FAILED") for _, _, fl in marked for f in fl)
    return 1 if failed or errors else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit("use `vae-lesson claims`")
