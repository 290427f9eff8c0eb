"""Every notebook in `notebooks/` runs top to bottom, offline, with no cell error.

Each notebook is read into memory and executed there (the stored file is never rewritten)
with `nbclient`, in a kernel of the interpreter running the tests, with `notebooks/` as the
working directory. The notebooks start their own Ollama-protocol test server and stop it in
their last cell, whose output is `server.running`: it must say `False`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

pytestmark = pytest.mark.integration

NOTEBOOK_DIR = Path(__file__).resolve().parents[3] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 60
KERNEL_NAME = "ragged-graph-tests"
# Settings that would point a notebook elsewhere than its own test server.
_FOREIGN_SETTINGS = ("OLLAMA_HOST", "RAGGED_GRAPH_CONFIG")


def test_the_notebooks_are_there() -> None:
    assert {
        "01_quickstart.ipynb",
        "02_rag_chain.ipynb",
        "03_personas.ipynb",
        "04_faults_and_fallbacks.ipynb",
        "05_analytics.ipynb",
        "06_ensemble_and_fleet.ipynb",
        "07_cost_hybrid_and_ab.ipynb",
    } <= {path.name for path in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_the_stored_notebook_has_small_outputs_and_no_error(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    assert all(cell.execution_count is not None for cell in code_cells), "not executed"
    outputs = [output for cell in code_cells for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert len(json.dumps(outputs)) < 20_000, "stored outputs should stay small"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_the_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Jupyter's connection files and IPython's own history go to temporary folders.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    env = {key: value for key, value in os.environ.items() if key not in _FOREIGN_SETTINGS}
    env["IPYTHONDIR"] = str(tmp_path / "ipython")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        km=_kernel_manager(tmp_path / "kernels"),
        timeout=CELL_TIMEOUT_S,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    # Raises CellExecutionError, naming the cell, on any error. With a kernel manager of
    # our own, nbclient leaves the kernel running unless told to clean up: each notebook
    # left a kernel process and its heartbeat threads for the rest of the session.
    client.execute(env=env, cleanup_kc=True)

    last = [cell for cell in notebook.cells if cell.cell_type == "code"][-1]
    results = [output for output in last.outputs if output.output_type == "execute_result"]
    assert results, "the last cell should show server.running"
    assert results[-1].data["text/plain"] == "False", "the test server was left running"


def _kernel_manager(folder: Path) -> KernelManager:
    """A kernel manager for this interpreter (whatever kernels are installed elsewhere)."""
    spec_dir = folder / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [
            sys.executable,
            "-Xfrozen_modules=off",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
        "display_name": f"Python ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    specs = KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)
