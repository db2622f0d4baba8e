"""Student copies of the notebooks (`vae-lesson handout OUT_DIR`).

A lecturer's notebook marks each exercise's solution with nbgrader's markers, in its own cell:

    ### BEGIN SOLUTION
    train_err = ...
    ### END SOLUTION

The student's copy replaces each region by `# YOUR CODE HERE` and a placeholder that keeps the cell
valid Python, so that "Run all" reaches the check cell, which then prints its hint:

- a region at the top level of a cell: `name = None` for each name it assigns (found with `ast`),
  and `def f(...):` + `raise NotImplementedError()` for each function it defines;
- a region inside a function body (indented): `raise NotImplementedError()` at that indentation.

Everything outside the regions is kept as it is; outputs are cleared; the lecturer's files are only read.
"""
import ast
import copy
import json
import re
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
OLD_MARKER = "# --- solution (lecturers: delete before handing out) ---"
YOUR_CODE = "# YOUR CODE HERE"
YOUR_ANSWER = "YOUR ANSWER HERE"
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"  # vae_lesson/tools/handout.py is two folders down


class HandoutError(ValueError):
    """A solution region that cannot be turned into a stub; the message names notebook and cell."""


def _source(cell):
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def has_solution(cell):
    return any(line.strip() == BEGIN for line in _source(cell).splitlines())


def exercises(nb):
    """[(solution cell index, check cell index or None)]: each code cell that holds a solution
    region, and the next code cell after it (its check)."""
    cells = nb["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and has_solution(cell):
            check = next((j for j in range(i + 1, len(cells)) if cells[j]["cell_type"] == "code"), None)
            found.append((i, check))
    return found


def _python(source):
    """The cell as Python: IPython's magics (`%time`, `!pip`) become what IPython would run."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # no IPython: magics are left as they are
        return source
    return TransformerManager().transform_cell(source)


def _assigned_names(statements):
    """Names bound at the top level by these statements, in order of first binding. Bindings inside
    a def, class, lambda or comprehension are local to it and not counted; `x += 1` changes a name that
    exists already and is not counted either."""
    names = []

    def add(name):
        if name not in names:
            names.append(name)

    def targets(node):
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                add(sub.id)

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            add(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Assign):
            for target in node.targets:
                targets(target)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets(node.target)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            targets(node.target)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    targets(item.optional_vars)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.NamedExpr):
            add(node.target.id)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in statements:
        visit(statement)
    return names


def _stub_function(node):
    """`def f(...):` with the signature (and docstring) of the solution's function, raising
    NotImplementedError."""
    stub = copy.deepcopy(node)
    body = []
    if (node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)):
        body.append(node.body[0])  # the docstring says what to write: keep it
    body.append(ast.Raise(exc=ast.Call(func=ast.Name("NotImplementedError", ast.Load()), args=[], keywords=[])))
    stub.body = body
    return ast.unparse(ast.fix_missing_locations(stub))


def _top_level_stub(region, where):
    code = "\n".join(region)
    try:
        tree = ast.parse(_python(code))
    except SyntaxError as err:
        raise HandoutError(f"{where}: the solution region is not valid Python on its own "
                           f"({err.msg}, line {err.lineno} of the region): a region at the top level of a cell "
                           f"must hold whole statements") from None
    lines = []
    functions = {node.name: node for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for name in _assigned_names(tree.body):
        if name == "_":  # a throwaway name: nothing reads it
            continue
        if name in functions:
            lines.extend(_stub_function(functions[name]).splitlines())
        else:
            lines.append(f"{name} = None")
    return lines


def stub_source(source, where="this cell"):
    """The student's version of one cell's source: each solution region replaced by its stub.
    `where` (e.g. "01_elbo.ipynb, cell 34") names the cell in errors."""
    lines = source.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == END:
            raise HandoutError(f"{where}: `{END}` (line {i + 1}) without a `{BEGIN}` before it")
        if line.strip() != BEGIN:
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        start = i
        i += 1
        region = []
        while i < len(lines) and lines[i].strip() != END:
            if lines[i].strip() == BEGIN:
                raise HandoutError(f"{where}: a second `{BEGIN}` (line {i + 1}) before the `{END}` of "
                                   f"the region that starts on line {start + 1}")
            region.append(lines[i])
            i += 1
        if i == len(lines):
            raise HandoutError(f"{where}: the solution region that starts on line {start + 1} has no "
                               f"`{END}`: add it where the solution ends")
        i += 1  # skip END
        out.append(indent + YOUR_CODE)
        if indent:  # inside a block (a function body): the student writes the body
            out.append(indent + "raise NotImplementedError()")
        else:
            out.extend(_top_level_stub(region, where))
    return "\n".join(out)


def _stub_markdown(source, where):
    """A solution region in a Markdown cell (a written answer) becomes YOUR ANSWER HERE."""
    pattern = re.compile(rf"^[ \t]*{re.escape(BEGIN)}[ \t]*$.*?^[ \t]*{re.escape(END)}[ \t]*$", re.M | re.S)
    result = pattern.sub(YOUR_ANSWER, source)
    if BEGIN in result or END in result:
        raise HandoutError(f"{where}: a solution region without its pair of markers")
    return result


def student_notebook(nb, name="notebook"):
    """A student's copy of the notebook `nb` (a dict as json.load gives; not changed): solution
    regions replaced by stubs, outputs and execution counts cleared, stored widget state dropped.
    Raises HandoutError naming `name` and the cell for a region it cannot stub."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    for index, cell in enumerate(nb["cells"]):
        where = f"{name}, cell {index}"
        source = _source(cell)
        if OLD_MARKER in source:
            raise HandoutError(f"{where}: uses the old marker `{OLD_MARKER}`, which does not say where the "
                               f"solution ends; put the solution between `{BEGIN}` and `{END}`")
        if cell["cell_type"] == "code":
            if BEGIN in source or END in source:
                source = stub_source(source, where)
                try:
                    compile(_python(source), where, "exec")
                except SyntaxError as err:
                    raise HandoutError(f"{where}: the student's copy of this cell would not be valid Python "
                                       f"({err.msg}, line {err.lineno}):\n{source}") from None
            cell["outputs"] = []
            cell["execution_count"] = None
        elif BEGIN in source or END in source:
            source = _stub_markdown(source, where)
        cell["source"] = source
    return nb


def notebooks(folder=None):
    """The series' notebooks, in reading order."""
    return sorted(Path(folder or NOTEBOOKS).glob("[0-9][0-9]_*.ipynb"))


def write_handouts(out_dir, sources=None, pairs=True, nbgrader=False, core=False):
    """Write the student copy of each notebook in `sources` (default: the series) into `out_dir`:
    NN_name.ipynb, and with `pairs` its py:percent twin NN_name.py (a lecturer can review the handout
    as a text diff: `diff notebooks/01_elbo.py OUT_DIR/01_elbo.py`); with `nbgrader`, each exercise
    carries nbgrader's cell metadata; with `core`, each is its core path (core_notebook). Every notebook is checked before anything is written. Returns
    the paths written."""
    sources = [Path(p) for p in (sources if sources is not None else notebooks())]
    if not sources:
        raise HandoutError("no notebooks found")
    out_dir = Path(out_dir)
    for path in sources:
        if out_dir.resolve() == path.parent.resolve():
            raise HandoutError(f"{out_dir} holds the lecturer's notebooks: choose another folder")
    lecturers = [(path, json.loads(path.read_text(encoding="utf-8"))) for path in sources]
    if core:
        lecturers = [(path, core_notebook(nb, path.name)) for path, nb in lecturers]
    handouts = [(path, student_notebook(nb, path.name)) for path, nb in lecturers]
    if nbgrader:
        handouts = [(path, nbgrader_metadata(student, path.name, exercises(lecturer)))
                    for (path, student), (_, lecturer) in zip(handouts, lecturers)]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, nb in handouts:
        target = out_dir / path.name
        import nbformat

        target.write_text(nbformat.writes(nbformat.from_dict(nb)), encoding="utf-8")  # as Jupyter writes it
        written.append(target)
        if pairs:
            try:
                import jupytext
            except ImportError:
                raise HandoutError("the .py twins need jupytext (pip install jupytext), or use --no-py") from None

            py = target.with_suffix(".py")
            jupytext.write(jupytext.read(target), py, fmt="py:percent")
            written.append(py)
    return written


# --- checking a student copy ---------------------------------------------------------------------
# A student's "Run all" stops at the first check that fails, so a student meets exercise k with the
# exercises before it done. vae_lesson/tools/handout_check.py checks each exercise in that state, inside
# nbval's run of the lecturer's notebook: the student's version of the solution cell, then its check.

def _errors(outputs):
    return [out.get("ename", "") for out in outputs if out.get("output_type") == "error"]


def _printed(outputs):
    text = []
    for out in outputs:
        if out.get("output_type") == "stream":
            text.append(_source({"source": out.get("text", "")}))
        elif "data" in out and "text/plain" in out["data"]:
            text.append(_source({"source": out["data"]["text/plain"]}))
    return "".join(text)


def exercise_problems(name, solution, check, stub_outputs, check_outputs):
    """What is wrong with one exercise of a student's copy, as a list of sentences (empty when all is well):
    its stubbed cell (number `solution` in notebook `name`) must run without error, and its check cell
    (number `check`) must then print its hint ("not yet") and stop with an AssertionError, never another
    error. `stub_outputs`, `check_outputs`: the two cells' outputs, as nbformat stores them."""
    found = []
    errors = _errors(stub_outputs)
    if errors:
        found.append(f"{name}, cell {solution} (a stubbed solution cell) fails on the student's copy with "
                     f"{', '.join(errors)}")
    errors = _errors(check_outputs)
    if errors != ["AssertionError"]:
        found.append(f"{name}, cell {check} (the check of the exercise in cell {solution}): on the stub it "
                     f"should stop with AssertionError, got {', '.join(errors) or 'no error'}")
    if "not yet" not in _printed(check_outputs):
        found.append(f"{name}, cell {check} (the check of the exercise in cell {solution}): on the stub it "
                     f"should print its hint (\"not yet: ...\"); it printed {_printed(check_outputs)[-300:]!r}")
    return found


# --- the students' repository --------------------------------------------------------------------

ROOT = NOTEBOOKS.parent
# Copied into the students' repository as they are: what `pip install git+...` and Colab need, and the
# claims ledger (numbers, no solutions). Not copied: tests/, .ci/, instructor/, tools/, DEVELOPING.md.
TREE_FILES = ("pyproject.toml", "environment.yml", "jupytext.toml", "CLAIMS.md")
# The lecturer's README sections a student's README keeps (the index of its website needs the first two).
STUDENT_SECTIONS = ("The notebooks, in order", "Course map", "Questions this series answers", "Settings", "Offline",
                    "Troubleshooting")
STUDENT_README = """# {title}

{intro}

## Open the series

In Colab: click a notebook's "Open in Colab" badge below (or at the top of the notebook), choose a GPU runtime
(Runtime → Change runtime type) and run all; the notebook's first code cell installs `vae_lesson` from this
repository. On your own machine, with Python 3.11 or newer:

```bash
pip install -e . jupyterlab && jupyter lab notebooks/
```

Each exercise has a cell marked `# YOUR CODE HERE`; the cell after it checks your answer and prints a hint
until it is right.

{sections}
"""


def nbgrader_metadata(nb, name="notebook", pairs=None):
    """Mark each exercise for nbgrader (a copy of `nb`): the solution cell as a solution cell, its check
    cell as a read-only cell, each with a grade_id of its own, so that `nbgrader generate_assignment`
    accepts the notebook with its metadata enforced. `pairs`: the exercises, (solution, check) cell
    indices, when `nb` is a student's copy, whose stubs no longer hold the markers (default: found in nb)."""
    nb = copy.deepcopy(nb)
    stem = Path(name).stem.split("_")[0]
    for k, (solution, check) in enumerate(exercises(nb) if pairs is None else pairs, 1):
        base = {"grade": False, "schema_version": 3, "task": False}
        nb["cells"][solution].setdefault("metadata", {})["nbgrader"] = {
            **base, "solution": True, "locked": False, "grade_id": f"nb{stem}-ex{k}-answer"}
        if check is not None:
            nb["cells"][check].setdefault("metadata", {})["nbgrader"] = {
                **base, "solution": False, "locked": True, "grade_id": f"nb{stem}-ex{k}-check"}
    return nb


def solution_lines(nb, shortest=12):
    """The lines of the notebook's solution regions (stripped, at least `shortest` characters) that the
    stubs do not keep (a function's signature and docstring stay) and that occur nowhere outside the
    regions: text that must not reach a student's copy or its website."""
    inside, outside = set(), []
    for cell in nb["cells"]:
        region, kept = False, set()
        if cell["cell_type"] == "code" and BEGIN in _source(cell):
            kept = {line.strip() for line in stub_source(_source(cell)).splitlines()}
        for line in _source(cell).splitlines():
            text = line.strip()
            if text in (BEGIN, END):
                region = text == BEGIN
            elif not region:
                outside.append(line)
            elif len(text) >= shortest and text not in kept:
                inside.add(text)
    rest = "\n".join(outside)
    return {line for line in inside if line not in rest}


def student_readme(readme_text):
    """The students' README, from the lecturer's: its title, intro and the sections in STUDENT_SECTIONS."""
    from .site import readme_sections

    found = readme_sections(readme_text, headings=())
    every = readme_sections(readme_text, headings=tuple(
        h for h in STUDENT_SECTIONS if re.search(rf"^##\s+{re.escape(h)}\s*$", readme_text, re.M)))
    sections = "\n\n".join(f"## {h}\n\n{every[h]}" for h in STUDENT_SECTIONS if h in every)
    return STUDENT_README.format(title=found["title"], intro=found[""], sections=sections)


def write_student_tree(out_dir, repo_url=None, ref=None, root=ROOT, sources=None, pairs=True, core=False):
    """Write the students' repository into `out_dir`: notebooks/ (solutions stubbed, nbgrader metadata),
    the package vae_lesson/ and the files in TREE_FILES, and a README for students; with `core`, each
    notebook's core path only (core_notebook). With `repo_url`, its
    notebooks and README install from and link to that repository (`set-repo`). Returns the paths of the
    notebooks written. Refuses the lecturer's repository itself and its notebooks/ folder."""
    import shutil

    from . import repo as repo_tool

    root, out_dir = Path(root), Path(out_dir)
    if out_dir.resolve() == root.resolve():
        raise HandoutError(f"{out_dir} is the lecturer's repository: choose another folder")
    sources = [Path(p) for p in (sources if sources is not None else notebooks())]
    written = write_handouts(out_dir / "notebooks", sources, pairs=pairs, nbgrader=True, core=core)
    package = out_dir / "vae_lesson"
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(root / "vae_lesson", package, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in TREE_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out_dir / name)
    (out_dir / "README.md").write_text(student_readme((root / "README.md").read_text(encoding="utf-8")),
                                       encoding="utf-8")
    if repo_url:
        repo_tool.set_repo(out_dir, repo_url, ref)
    return written


def student_view(executed, student, name="notebook"):
    """The executed lecturer's notebook `executed` as the student's copy `student` shows it (both as
    nbformat nodes or dicts, cell for cell the same notebook): each cell whose source the handout changed
    (a stubbed solution, the setup cell pointing at the students' repository) takes the student's source,
    and each solution cell and its check lose their outputs (a check prints whether the answer passed,
    and may print the answer)."""
    cells, theirs = executed["cells"], student["cells"]
    if len(cells) != len(theirs):
        raise HandoutError(f"{name}: the students' copy has {len(theirs)} cells, the notebook {len(cells)}: "
                           f"write the students' copy again (vae-lesson handout)")
    hidden = {i for pair in exercises(executed) for i in pair if i is not None}
    for i, (cell, their) in enumerate(zip(cells, theirs)):
        if _source(cell) != _source(their):
            cell["source"] = _source(their)
        if cell["cell_type"] == "code" and i in hidden:
            cell["outputs"] = []
            cell["execution_count"] = None
    return executed


# --- the core path -------------------------------------------------------------------------------

CORE, DEEP_DIVE = "core", "deep-dive"


def _heading(cell):
    """The `## ` heading a Markdown cell starts with, or None."""
    text = _source(cell).lstrip()
    return text[3:].splitlines()[0].strip() if cell["cell_type"] == "markdown" and text.startswith("## ") else None


def section_tags(nb, name="notebook"):
    """[(cell index, heading, tag)] of the notebook's `## ` sections; HandoutError for a section heading
    that is not at the start of a cell tagged `core` or `deep-dive`, or stands inside a cell."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        heading = _heading(cell)
        inner = [line for line in _source(cell).lstrip().splitlines()[1:] if line.startswith("## ")]
        if inner:
            raise HandoutError(f"{name}, cell {index}: the heading {inner[0]!r} stands inside a cell: start a "
                               f"Markdown cell with it, so that its section can be tagged")
        if heading is None:
            continue
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t in (CORE, DEEP_DIVE)]
        if len(tags) != 1:
            raise HandoutError(f"{name}, cell {index}: the section {heading!r} needs one tag, `{CORE}` or "
                               f"`{DEEP_DIVE}` (in the .py: `# %% [markdown] tags=[\"{CORE}\"]`)")
        found.append((index, heading, tags[0]))
    return found


def core_notebook(nb, name="notebook"):
    """The notebook's core path (a copy): every `deep-dive` section, from its heading to the next
    section, left out, and a line at the end of the title cell that names what was left out."""
    nb = copy.deepcopy(nb)
    sections = section_tags(nb, name)
    drop, left_out = set(), []
    for k, (index, heading, tag) in enumerate(sections):
        if tag == DEEP_DIVE:
            end = sections[k + 1][0] if k + 1 < len(sections) else len(nb["cells"])
            drop.update(range(index, end))
            left_out.append(heading)
    cells = [cell for i, cell in enumerate(nb["cells"]) if i not in drop]
    title = next((c for c in cells if c["cell_type"] == "markdown"), None)
    if left_out and title is not None:
        title["source"] = (_source(title).rstrip("\n") + "\n\n*The core path of this notebook. Left out here, in "
                           "the full notebook: " + "; ".join(left_out) + ".*")
    nb["cells"] = cells
    return nb
