"""A small series (two notebooks and a README) for the fast site tests: a figure, math, a printed
number, a link from one notebook to the other."""
import json
from pathlib import Path

import nbformat

README = """# A small series

Two notebooks, built for the tests. The math $a^2 + b^2 = c^2$ is typeset. Their claims: [the ledger](CLAIMS.md).

## The notebooks, in order

| notebook | what it answers |
|---|---|
| [00 First](notebooks/00_first.ipynb) | a figure of $\\sin x$ |
| [01 Second](notebooks/01_second.ipynb) | a number |

## Questions this series answers

| the question | answered by |
|---|---|
| Is $\\mathbb E[f(z)] = f(\\mathbb E[z])$? | [01 §1](notebooks/01_second.ipynb#One) |

## Settings

Not shown on the index.
"""

# As in the series: the title first, then the setup cell (tagged "setup", left out of the pages).
FIRST = [
    ("markdown", "# 00 · First\n\nThe curve $y = \\sin x$ and the display\n\n$$\\int_0^\\pi \\sin x \\, dx = 2.$$\n\n"
                 "Next: [the second notebook](01_second.ipynb)."),
    ("setup", 'REPO_URL = "https://github.com/someone/a-fork"  # change this if you use a fork'),
    ("code", "import matplotlib.pyplot as plt\nimport numpy as np\nx = np.linspace(0, 6, 50)\n"
             "plt.plot(x, np.sin(x))\nplt.show()\nprint(f'largest value {np.sin(x).max():.3f}')"),
]
SECOND = [
    ("markdown", "# 01 · Second\n\n## One\n\nA number, and $\\log p(x) \\ge \\mathcal L$:"),
    ("setup", "import sys  # no REPO_URL here: the default address is used"),
    ("code", "import matplotlib.pyplot as plt\nplt.imshow([[0, 1], [1, 0]])\nplt.show()\nprint(6 * 7)"),
]


def write_notebook(path, cells):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source))
        else:
            metadata = {"tags": ["setup"]} if kind == "setup" else {}
            nb.cells.append(nbformat.v4.new_code_cell(source, metadata=metadata))
    Path(path).write_text(nbformat.writes(nb))
    return Path(path)


def small_series(folder):
    """(notebooks, readme) of the small series, written under `folder`."""
    folder = Path(folder)
    (folder / "notebooks").mkdir(parents=True, exist_ok=True)
    readme = folder / "README.md"
    readme.write_text(README)
    return [write_notebook(folder / "notebooks" / "00_first.ipynb", FIRST),
            write_notebook(folder / "notebooks" / "01_second.ipynb", SECOND)], readme
