"""Import weight and import direction (STYLE.md: cli -> pipeline -> stages -> types)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "photoguard"
HEAVY = (
    "dlib",
    "face_recognition",
    "onnxruntime",
    "sqlalchemy",
    "sqlmodel",
    "cv2",
    "pytesseract",
    "zxingcpp",
    "numpy",
)


def _modules_loaded_by(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {m.split(".")[0] for m in json.loads(out.strip().splitlines()[-1])}


def test_help_loads_no_heavy_library():
    code = (
        "import sys\nfrom photoguard.cli.main import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    app(['check', '--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    app(['consent', '--help'])\nexcept SystemExit:\n    pass\n"
        "try:\n    app(['audit', '--help'])\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_loaded_by(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def _module_names(consent: bool) -> list[str]:
    names = [
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts) for p in PACKAGE.rglob("*.py")
    ]
    return [n for n in names if n.startswith("photoguard.consent") == consent]


def test_importing_any_module_loads_no_model_library():
    """Models load lazily, inside the adapters; only the registry package loads the ORM."""
    loaded = _modules_loaded_by("\n".join(f"import {n}" for n in _module_names(consent=False)))
    assert not loaded & {"dlib", "face_recognition", "onnxruntime", "sqlalchemy", "sqlmodel"}
    loaded = _modules_loaded_by("\n".join(f"import {n}" for n in _module_names(consent=True)))
    assert not loaded & {"dlib", "face_recognition", "onnxruntime"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("photoguard")
        ):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("photoguard"))
    return found


def test_stages_never_import_the_cli_or_each_other_upwards():
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        imports = _imports(path)
        if not rel.startswith("cli/"):
            assert not any(i.startswith("photoguard.cli") for i in imports), rel
        if rel.startswith("detect/") or rel in {"load.py", "policy.py", "match.py", "types.py"}:
            upward = {"photoguard.pipeline", "photoguard.consent", "photoguard.report"}
            assert not any(i.startswith(tuple(upward)) for i in imports), (rel, imports)
        if rel in {"types.py", "errors.py"}:
            allowed = ("photoguard.errors", "photoguard.types")
            assert all(i.startswith(allowed) for i in imports), (rel, imports)
        if not rel.startswith("consent/"):
            tree = ast.parse(path.read_text())
            mods = {
                a.name.split(".")[0]
                for n in ast.walk(tree)
                if isinstance(n, ast.Import)
                for a in n.names
            }
            mods |= {
                n.module.split(".")[0]
                for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module
            }
            assert not mods & {"sqlmodel", "sqlalchemy"}, f"{rel}: only consent/ uses the ORM"


def test_detector_base_imports_no_adapter():
    """base.py holds the protocol and the factory table; adapters import it, never the reverse."""
    imports = _imports(PACKAGE / "detect" / "base.py")
    adapters = ("photoguard.detect.faces", "photoguard.detect.text", "photoguard.detect.barcodes")
    assert not any(i.startswith(adapters) for i in imports), imports
    assert not any(i.startswith("photoguard.detect.registry") for i in imports), imports


def _consent_graph() -> dict[str, set[str]]:
    """Module -> the photoguard.consent modules it imports (TYPE_CHECKING and lazy ones too)."""
    graph: dict[str, set[str]] = {}
    for path in (PACKAGE / "consent").glob("*.py"):
        name = f"photoguard.consent.{path.stem}"
        found = set()
        for imported in _imports(path):
            if imported.startswith("photoguard.consent."):
                parts = imported.split(".")
                found.add(".".join(parts[:3]))
        graph[name] = {m for m in found if (PACKAGE / "consent" / f"{m.split('.')[2]}.py").exists()}
        graph[name].discard(name)
    return graph


def test_consent_package_has_no_import_cycle():
    graph = _consent_graph()
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*trail, node, nxt])
            if nxt not in state:
                visit(nxt, [*trail, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert "photoguard.consent.registry" not in graph["photoguard.consent.audit"]
