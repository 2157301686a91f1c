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
        if not rel.startswith("cli/") and rel != "__main__.py":  # `python -m`: the CLI's door
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


# -- the import graph ---------------------------------------------------------------------------

STAGES = {
    "load": "load",
    "containers": "load",
    "detect": "detect",
    "match": "match",
    "policy": "policy",
    "render": "render",
    "outputs": "render",
    "report": "report",
}
"""The pipeline's stages by top-level module or package (README's layout). types, errors,
settings and fsutil are shared by all; pipeline, api, cli, consent and review orchestrate."""


def _module_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Every photoguard module and the photoguard modules it imports, lazy imports included
    (a function-level import is still a dependency); ``if TYPE_CHECKING:`` blocks excluded."""
    modules = {_module_of(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        typing_only = {
            id(n)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in node.body
            for n in ast.walk(sub)
        }
        found = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("photoguard"):
                found |= {resolve(f"{node.module}.{a.name}") for a in node.names}
            elif isinstance(node, ast.Import):
                found |= {resolve(a.name) for a in node.names if a.name.startswith("photoguard")}
        graph[name] = {m for m in found if m and m != name and m != "photoguard"}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while component[-1:] != [v]:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    assert _cycles(_import_graph()) == []


def test_the_cycle_check_can_fail():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return STAGES.get(parts[1]) if len(parts) > 1 else None


def test_no_stage_imports_another_stage():
    """Stages meet only in pipeline.py: detect never imports policy, render never imports
    detect, and so on (lazy imports included)."""
    crossings = [
        (module, target)
        for module, targets in _import_graph().items()
        for target in targets
        if _stage(module) and _stage(target) and _stage(module) != _stage(target)
    ]
    assert crossings == []
