"""The course map: each notebook's time line and the README's table agree with the estimate from the
notebook's text (vae_lesson.tools.course_map), so an edit that adds an hour of reading cannot leave the
map saying otherwise."""
import json
from pathlib import Path

import pytest

from vae_lesson.tools import cli, course_map, handout

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", handout.notebooks(), ids=lambda p: p.stem)
def test_each_notebook_states_its_time_after_its_title(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    line = course_map.time_line(nb, path.name)
    assert line, (f"{path.name}: its title cell needs a line '*Time: about N minutes (core path M) · Read first: "
                  f"... · GPU: ...*' (`vae-lesson map` prints N and M)")
    core, whole = course_map.minutes(nb, path.name)
    assert (int(line["core"]), int(line["all"])) == (core, whole), (
        f"{path.name}: its time line says core {line['core']}, whole {line['all']}; the text gives {core}, {whole}")
    number = int(path.name[:2])
    earlier = [int(n) for n in line["first"].replace(",", " ").split() if n.isdigit()]
    assert all(n < number for n in earlier), f"{path.name}: 'Read first' names a later notebook"
    assert earlier or line["first"].strip() == "nothing", f"{path.name}: 'Read first' names no notebook"


def test_the_readme_holds_the_course_map_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert course_map.table() in readme, "the README's course map is out of date: paste `vae-lesson map`'s table"


def test_minutes_count_prose_code_exercises_and_figures():
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# 01 · T\n\n*Time: about 5 minutes (core path 5) · "
                                                            "Read first: 00 · GPU: not needed*\n\n" + "word " * 200},
        {"cell_type": "markdown", "metadata": {"tags": ["deep-dive"]}, "source": "## 1. Deep\n\n" + "word " * 298},
        {"cell_type": "code", "metadata": {}, "source": "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n" + "y = 2\n" * 7},
        {"cell_type": "code", "metadata": {}, "source": "plt.show()"}]}
    parts = course_map.sections(nb)
    assert [round(s["min"], 2) for s in parts] == [2.04, 15.11]  # 204 words; 301 words, 11 lines, an exercise, a figure
    assert course_map.minutes(nb) == (0, 15)
    assert course_map.time_line(nb) == {"all": "5", "core": "5", "first": "00", "gpu": "not needed"}


def test_cli_map_prints_the_table(capsys):
    assert cli.main(["map"]) == 0
    assert course_map.table() in capsys.readouterr().out
