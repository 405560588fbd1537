"""The notebooks in ``notebooks/`` run without a cell error, and are saved with their outputs.

Each notebook is executed with nbclient on a ``python3`` kernel whose spec is written to a temporary
directory and points at this interpreter (``sys.executable``), so the kernel is the venv's Python
whatever kernel specs the machine has; nothing is installed globally.  The notebooks assert their own
results against ``truth.json`` (matrix cells, request counts, clock offsets inside the bounds), so a
regression in ingest or the analyses fails here as a cell error.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["01-walkthrough.ipynb", "02-clock-skew.ipynb"]


def execute(path: Path, timeout: int = 120):
    """Execute the notebook at ``path`` (cwd: its directory) and return the executed notebook.

    Raises ``nbclient.exceptions.CellExecutionError`` on the first cell that raises.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(str(path), as_version=4)
    with tempfile.TemporaryDirectory(prefix="kubelog-kernels-") as kdir:
        spec = Path(kdir) / "python3"
        spec.mkdir()
        (spec / "kernel.json").write_text(
            json.dumps(
                {
                    "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    "display_name": "Python 3 (kubelog)",
                    "language": "python",
                }
            )
        )
        ksm = KernelSpecManager(kernel_dirs=[kdir], ensure_native_kernel=False)
        km = KernelManager(kernel_name="python3", kernel_spec_manager=ksm)
        client = nbclient.NotebookClient(
            nb, timeout=timeout, kernel_name="python3", km=km, resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name):
    nb = execute(NOTEBOOKS / name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert errors == []


@pytest.mark.parametrize("name", NAMES)
def test_notebook_saved_with_outputs(name):
    """The committed notebook is the executed one: every code cell ran, in order, without an error, and
    the plots are rendered."""
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)
    assert sum(1 for c in code if c.outputs) >= len(code) - 2


def test_kernel_is_this_interpreter():
    """The kernel the tests start runs sys.executable (the venv), not a python3 found elsewhere."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; print(sys.executable)")])
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "probe.ipynb"
        nbformat.write(nb, str(p))
        out = execute(p, timeout=60)
    assert out.cells[0].outputs[0]["text"].strip() == sys.executable


if __name__ == "__main__":  # re-execute the notebooks and save them with their outputs
    for _name in NAMES:
        _path = NOTEBOOKS / _name
        nbformat.write(execute(_path), str(_path))
        print("executed and saved", _path)
