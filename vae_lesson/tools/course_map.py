"""The course map (`vae-lesson map`): how long each notebook takes a student, estimated from its text.

Not measured on students. Per section (a Markdown cell that starts with `## `, up to the next one):
reading the prose at 100 words a minute (technical prose with math, read to be understood), reading and
running the code at 10 lines a minute, 10 minutes for each exercise (a cell with `### BEGIN SOLUTION`:
predict, write, check) and a minute for each figure (a code cell that draws one). A section counts for
the core path or the deep-dives by the tag on its heading cell (handout.section_tags).

Each notebook states its estimate in the line after its title,

    *Time: about 95 minutes (core path 45) · Read first: 01, 02 · GPU: not needed*

and the README's course map repeats them; tests/test_course_map.py checks that both agree with
`minutes`. After editing a notebook, `vae-lesson map` prints what its line and the map should say.
"""
import json
import re

from . import handout

WORDS_PER_MIN, CODE_LINES_PER_MIN, EXERCISE_MIN, FIGURE_MIN = 100, 10, 10, 1
TIME_LINE = re.compile(r"^\*Time: about (?P<all>\d+) minutes \(core path (?P<core>\d+)\) · "
                       r"Read first: (?P<first>[^·]+?) · GPU: (?P<gpu>[^*]+)\*$", re.M)
FIGURE = re.compile(r"plt\.show\(|vl\.plots\.|\.show_")


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def sections(nb, name="notebook"):
    """[{heading, tag, min}] of a notebook: "intro" (before the first `## ` section, always core), then one
    per section. The time line itself is not counted."""
    tags = {index: tag for index, _, tag in handout.section_tags(nb, name)}
    found = [{"heading": "intro", "tag": handout.CORE, "min": 0.0}]
    for index, cell in enumerate(nb["cells"]):
        text = _source(cell)
        if "setup" in cell.get("metadata", {}).get("tags", []):
            continue
        if index in tags:
            found.append({"heading": text.lstrip()[3:].splitlines()[0].strip(), "tag": tags[index], "min": 0.0})
        current = found[-1]
        if cell["cell_type"] == "markdown":
            current["min"] += len(TIME_LINE.sub("", text).split()) / WORDS_PER_MIN
        else:
            current["min"] += sum(1 for line in text.splitlines() if line.strip()) / CODE_LINES_PER_MIN
            current["min"] += EXERCISE_MIN * handout.has_solution(cell) + FIGURE_MIN * bool(FIGURE.search(text))
    return found


def minutes(nb, name="notebook"):
    """(core path, whole notebook) in minutes, each rounded to 5."""
    parts = sections(nb, name)
    core = sum(s["min"] for s in parts if s["tag"] == handout.CORE)
    whole = sum(s["min"] for s in parts)
    return 5 * round(core / 5), 5 * round(whole / 5)


def time_line(nb, name="notebook"):
    """The notebook's time line as it stands in its title cell: {all, core, first, gpu}, or None."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            found = TIME_LINE.search(_source(cell))
            return found.groupdict() if found else None
    return None


def rows(paths=None):
    """[(path, title, time line, (core, whole))] for each notebook of the series."""
    out = []
    for path in paths or handout.notebooks():
        nb = json.loads(path.read_text(encoding="utf-8"))
        title = next(re.search(r"^#\s+(.+)$", _source(c), re.M).group(1).strip()
                     for c in nb["cells"] if c["cell_type"] == "markdown")
        out.append((path, title, time_line(nb, path.name), minutes(nb, path.name)))
    return out


def table(paths=None):
    """The README's course-map table, from the notebooks' time lines and the estimates."""
    lines = ["| notebook | read first | core path, min | whole notebook, min | GPU |", "|---|---|---:|---:|---|"]
    total_core = total_all = 0
    for path, title, line, (core, whole) in rows(paths):
        first, gpu = (line["first"], line["gpu"]) if line else ("?", "?")
        lines.append(f"| [{title}](notebooks/{path.name}) | {first} | {core} | {whole} | {gpu} |")
        total_core, total_all = total_core + core, total_all + whole
    lines.append(f"| all | | {total_core} | {total_all} | |")
    return "\n".join(lines)


def report(paths=None):
    """What `vae-lesson map` prints: each notebook's sections with their minutes and tags, the line its
    title cell should carry, and the README's table."""
    out = []
    for path, title, line, (core, whole) in rows(paths):
        nb = json.loads(path.read_text(encoding="utf-8"))
        out.append(f"{path.name}: core path {core} min, whole notebook {whole} min"
                   + ("" if line and (int(line["core"]), int(line["all"])) == (core, whole)
                      else "   <- its time line says otherwise: update it"))
        for s in sections(nb, path.name):
            out.append(f"  {s['min']:5.1f} min  {s['tag']:9s}  {s['heading'][:80]}")
    out += ["", "The README's course map:", "", table(paths)]
    return "\n".join(out)
