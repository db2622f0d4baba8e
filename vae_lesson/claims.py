"""Teaching claims with their evidence: `vl.claim`.

A sentence in a notebook such as "samples are less confident than reconstructions" rests on a number
the notebook measures. `claim` states it, compares the number with a threshold, and names the
**null**: what the number would read if the sentence were false (chance, the rival method, the
model the sentence calls worse). The threshold must lie between the null and what the claim says,
so that a false claim cannot pass:

    vl.claim("samples-less-sure", "the classifier is less sure of samples than of reconstructions",
             value=conf_samples, compare="<", threshold=conf_recon - 0.03,
             null=conf_recon, null_is="the reconstructions' confidence")

It prints one line: the statement, the number, the threshold, the null and the margin. When the
number misses the threshold, what happens depends on `config.claims_raise()`, decided in one place:
- under tests (nbval, the claims ledger, the website build: VAE_LESSON_CLAIMS=raise) it raises
  `ClaimFailed`, an AssertionError, so the notebook fails with the claim's numbers;
- otherwise (a student's run, perhaps with another seed or data set) it shows a box that says what
  was expected and what this run measured, and the notebook goes on.

With VAE_LESSON_CLAIMS_LEDGER=FILE each claim is also appended to FILE as one JSON line (notebook,
id, value, threshold, null, standard error, seed, data set, mode, device), for `vae-lesson claims`.

Checks of the code (shapes, identities, bounds true by construction) are not claims: they stay
plain `assert`s, and no sentence in the text rests on them.
"""
import json
import math
import os
import time

from . import config

COMPARES = (">", "<", "within")
ISSUES_URL = "https://github.com/vae-lesson/vae-lesson/issues"


class ClaimFailed(AssertionError):
    """A teaching claim that this run's measurement does not support."""


class ClaimError(ValueError):
    """A claim that is badly posed: it could not fail, or its comparison is unknown."""


def _number(name, value):
    try:
        value = float(value)  # a 0-d tensor or NumPy scalar too
    except (TypeError, ValueError):
        raise ClaimError(f"{name} must be a number, got {value!r}") from None
    if math.isnan(value):
        raise ClaimError(f"{name} is NaN")
    return value


def _check_posed(compare, threshold, null):
    """Refuse a claim whose threshold does not separate the null from what the claim says."""
    if compare not in COMPARES:
        raise ClaimError(f"compare must be one of {', '.join(COMPARES)}, got {compare!r}")
    if compare == "within":
        lo, hi = threshold
        if not lo < hi:
            raise ClaimError(f"'within' needs a threshold (low, high) with low < high, got {threshold!r}")
        if null is not None and lo <= null <= hi:
            raise ClaimError(f"the null {null:g} lies inside ({lo:g}, {hi:g}): the claim would hold "
                             f"if it were false. Narrow the interval or name another null.")
    elif null is not None:
        wrong_side = null >= threshold if compare == ">" else null <= threshold
        if wrong_side:
            raise ClaimError(
                f"the threshold {threshold:g} does not lie between the null {null:g} and the claim: "
                f"a value at the null would pass '{compare} {threshold:g}'. Move the threshold "
                f"past the null.")


def _holds(value, compare, threshold):
    if compare == ">":
        return value > threshold
    if compare == "<":
        return value < threshold
    lo, hi = threshold
    return lo < value < hi


def _margin(value, compare, threshold):
    """How far the value lies beyond the threshold, on the claim's side (negative: it misses)."""
    if compare == ">":
        return value - threshold
    if compare == "<":
        return threshold - value
    lo, hi = threshold
    return min(value - lo, hi - value)


def _fmt(x):
    if isinstance(x, tuple):
        return f"({_fmt(x[0])}, {_fmt(x[1])})"
    return f"{x:.4g}" if abs(x) < 1e5 else f"{x:,.0f}"


def _notebook():
    """The notebook this kernel runs, where the runner says it (VAE_LESSON_NOTEBOOK)."""
    return os.environ.get("VAE_LESSON_NOTEBOOK", "")


def _record(row):
    path = os.environ.get("VAE_LESSON_CLAIMS_LEDGER", "").strip()
    if not path:
        return
    with open(path, "a") as f:  # one line per claim, appended whole
        f.write(json.dumps(row) + "\n")


class _Box:
    """A visible box for a claim this run does not support (Jupyter shows the HTML)."""

    def __init__(self, lines):
        self.lines = lines

    def __repr__(self):
        width = max(len(line) for line in self.lines)
        bar = "+" + "-" * (width + 2) + "+"
        return "\n".join([bar] + [f"| {line.ljust(width)} |" for line in self.lines] + [bar])

    def _repr_html_(self):
        import html
        head, *rest = self.lines
        body = "".join(f"<div>{html.escape(line)}</div>" for line in rest)
        return (f'<div style="border:2px solid #c77700;background:#fff4e0;color:#222;padding:8px 12px;'
                f'margin:6px 0;border-radius:4px"><b>{html.escape(head)}</b>{body}</div>')


def _show(box):
    try:
        from IPython.display import display
        display(box)
    except ImportError:  # plain Python
        print(repr(box))


def claim(id, statement, value, compare, threshold, *, null, null_is, se=None, unit=""):
    """State a teaching claim, measure it, and check it against its threshold.

    id        a short name, unique within the notebook (the ledger's key), e.g. "samples-less-sure"
    statement the sentence the text makes, as a student reads it
    value     the measured number
    compare   ">" (value above threshold), "<" (below), or "within" (threshold = (low, high))
    threshold where the claim begins to hold; it must lie between `null` and the claim's side
    null      what `value` would read if the claim were false (chance, the rival, the worse model);
              None only while no null is known: the ledger flags it
    null_is   what the null is, in words ("chance: 1 in 10", "the score-function estimator's")
    se        the standard error of `value`, where one is estimated (the margin is then also in SEs)
    unit      printed after the numbers ("nats", "%")

    Returns True when the claim holds. When it does not: raises ClaimFailed where
    config.claims_raise() (under tests), else shows a box and returns False."""
    value = _number("value", value)
    if compare == "within":
        try:
            threshold = tuple(_number("threshold", t) for t in threshold)
            assert len(threshold) == 2
        except (TypeError, AssertionError):
            raise ClaimError(f"'within' needs threshold=(low, high), got {threshold!r}") from None
    else:
        threshold = _number("threshold", threshold)
    null = None if null is None else _number("null", null)
    se = None if se is None else _number("se", se)
    _check_posed(compare, threshold, null)

    holds = _holds(value, compare, threshold)
    margin = _margin(value, compare, threshold)
    u = f" {unit}" if unit else ""
    cmp = f"in {_fmt(threshold)}" if compare == "within" else f"{compare} {_fmt(threshold)}"
    null_text = f"if false: {_fmt(null)}{u} ({null_is})" if null is not None else f"no null named ({null_is})"
    se_text = f" ± {_fmt(se)}" if se is not None else ""
    margin_text = f"margin {_fmt(margin)}{u}" + (f" = {margin / se:.1f} SE" if se else "")
    _record({"notebook": _notebook(), "id": id, "statement": statement, "value": value, "compare": compare,
             "threshold": threshold, "null": null, "null_is": null_is, "se": se, "unit": unit,
             "holds": holds, "margin": margin, "seed": config.seed(), "dataset": config.dataset_name(),
             "mode": config.by_mode("full", "quick"), "device": str(config.get_device()),
             "time": time.strftime("%Y-%m-%d %H:%M:%S")})
    if holds:
        print(f"claim holds: {statement}: measured {_fmt(value)}{se_text}{u}, {cmp}; "
              f"{null_text}; {margin_text}")
        return True
    message = (f"claim {id!r} does not hold on this run: {statement}: measured {_fmt(value)}{se_text}{u}, "
               f"expected {cmp}{u}; {null_text}")
    if config.claims_raise():
        raise ClaimFailed(message)
    _show(_Box([
        f"This run does not support a claim of the text: {statement}",
        f"expected: {cmp}{u} ({null_text})",
        f"measured: {_fmt(value)}{se_text}{u}",
        f"run with: seed {config.seed()}, data set {config.dataset_name()}, "
        f"{config.by_mode('full', 'quick')} mode, {config.get_device()}",
        "This can happen with another seed, data set or mode than the series was checked on; "
        "the notebook goes on.",
        f"If it happens with the default settings, please tell your lecturer or report it at {ISSUES_URL}",
    ]))
    return False
