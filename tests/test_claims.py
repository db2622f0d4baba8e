"""vl.claim: a claim that holds prints its evidence; one that does not either raises (under tests)
or shows a box and goes on (a student's run); a claim that could not fail is refused; the ledger
records each claim."""
import json

import pytest

import vae_lesson as vl
from vae_lesson.claims import ClaimError, ClaimFailed


@pytest.fixture
def raising(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_CLAIMS", "raise")


@pytest.fixture
def showing(monkeypatch):
    monkeypatch.setenv("VAE_LESSON_CLAIMS", "show")
    monkeypatch.delenv("VAE_LESSON_CLAIMS_LEDGER", raising=False)


def better(value, **kw):
    return vl.claim("better", "B beats A", value, ">", 0.6, null=0.5, null_is="chance", **kw)


def test_a_claim_that_holds_prints_its_numbers(raising, capsys):
    assert better(0.9, se=0.05) is True
    out = capsys.readouterr().out
    assert "claim holds: B beats A" in out
    assert "0.9 ± 0.05" in out and "> 0.6" in out and "if false: 0.5 (chance)" in out
    assert "6.0 SE" in out  # (0.9 - 0.6) / 0.05


def test_a_false_claim_fails_with_its_numbers_under_tests(raising):
    with pytest.raises(ClaimFailed) as err:
        better(0.55)
    assert isinstance(err.value, AssertionError)  # so nbval fails the cell
    text = str(err.value)
    assert "'better'" in text and "B beats A" in text and "0.55" in text and "> 0.6" in text and "0.5" in text


def test_a_false_claim_shows_a_box_and_goes_on_for_a_student(showing, capsys):
    assert better(0.55) is False
    out = capsys.readouterr().out
    assert "does not support a claim" in out and "measured: 0.55" in out and "expected: > 0.6" in out
    assert "seed 0" in out and "report it" in out


def test_the_box_renders_as_html():
    from vae_lesson.claims import _Box
    box = _Box(["head <b>", "line"])
    assert "&lt;b&gt;" in box._repr_html_() and "line" in box._repr_html_()
    assert repr(box).startswith("+--")


def test_the_setting_is_decided_in_one_place(monkeypatch):
    monkeypatch.delenv("VAE_LESSON_CLAIMS", raising=False)
    monkeypatch.delenv("VAE_LESSON_CLAIMS_LEDGER", raising=False)
    assert vl.config.claims_raise() is False  # a student's default
    monkeypatch.setenv("VAE_LESSON_CLAIMS", "raise")
    assert vl.config.claims_raise() is True
    monkeypatch.setenv("VAE_LESSON_CLAIMS", "show")
    monkeypatch.setenv("VAE_LESSON_CLAIMS_LEDGER", "/tmp/x.jsonl")
    assert vl.config.claims_raise() is True  # recording a ledger is a test run
    monkeypatch.delenv("VAE_LESSON_CLAIMS_LEDGER")
    monkeypatch.setenv("VAE_LESSON_CLAIMS", "loud")
    with pytest.raises(ValueError, match="VAE_LESSON_CLAIMS"):
        vl.config.claims_raise()


@pytest.mark.parametrize("compare, threshold, null", [
    (">", 0.6, 0.6),     # the threshold sits on the null: no room between them
    (">", 0.4, 0.5),     # the threshold lies below the null: the null itself passes
    ("<", 0.6, 0.5),     # the null passes '< 0.6'
    ("within", (0.4, 0.6), 0.5),  # the null lies inside the interval
])
def test_a_claim_that_could_not_fail_is_refused(raising, compare, threshold, null):
    with pytest.raises(ClaimError, match="null"):
        vl.claim("x", "x", 0.9, compare, threshold, null=null, null_is="n")


def test_badly_posed_claims_are_refused(raising):
    with pytest.raises(ClaimError, match="compare"):
        vl.claim("x", "x", 1.0, ">=", 0.5, null=0.0, null_is="n")
    with pytest.raises(ClaimError, match="NaN"):
        vl.claim("x", "x", float("nan"), ">", 0.5, null=0.0, null_is="n")
    with pytest.raises(ClaimError, match="low, high"):
        vl.claim("x", "x", 1.0, "within", 0.5, null=0.0, null_is="n")


def test_below_and_within(raising):
    assert vl.claim("lo", "small", 0.1, "<", 0.2, null=1.0, null_is="big")
    assert vl.claim("in", "near one", 1.01, "within", (0.95, 1.05), null=0.0, null_is="zero")
    with pytest.raises(ClaimFailed):
        vl.claim("in", "near one", 1.2, "within", (0.95, 1.05), null=0.0, null_is="zero")


def test_a_tensor_value_is_accepted(raising):
    import torch
    assert better(torch.tensor(0.8))


def test_the_ledger_records_each_claim(raising, monkeypatch, tmp_path):
    ledger = tmp_path / "claims.jsonl"
    monkeypatch.setenv("VAE_LESSON_CLAIMS_LEDGER", str(ledger))
    monkeypatch.setenv("VAE_LESSON_NOTEBOOK", "99_test")
    monkeypatch.setenv("VAE_LESSON_SEED", "2")
    monkeypatch.setenv("VAE_LESSON_DATASET", "digits")
    better(0.9, se=0.1)
    with pytest.raises(ClaimFailed):
        better(0.55)  # recorded before it raises
    rows = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [r["holds"] for r in rows] == [True, False]
    first = rows[0]
    assert first["notebook"] == "99_test" and first["id"] == "better" and first["seed"] == 2
    assert first["dataset"] == "digits" and first["threshold"] == 0.6 and first["null"] == 0.5
    assert first["se"] == 0.1 and first["device"] and first["mode"] in ("quick", "full")
    assert abs(first["margin"] - 0.3) < 1e-12
