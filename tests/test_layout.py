"""Rules about the code itself, checked like behaviour."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from hub import hookspecs

HUB = Path(__file__).resolve().parent.parent / "hub"
PROVIDER_PACKAGES = ("twilio", "vonage", "hub_twilio", "hub_vonage", "google", "hub_sheets")


def test_the_core_imports_no_provider():
    offenders = []
    for path in HUB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(HUB)}: {name}"
                for name in names
                if name.split(".")[0] in PROVIDER_PACKAGES
            ]
    assert offenders == []


def test_every_hook_is_documented():
    hooks = [getattr(hookspecs, name) for name in dir(hookspecs) if name.startswith("hub_")]
    assert len(hooks) >= 7
    undocumented = [hook.__name__ for hook in hooks if len(inspect.getdoc(hook) or "") < 40]
    assert undocumented == []


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(HUB.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _hub_imports(path: Path, modules: set[str]) -> set[str]:
    """Every ``hub`` module ``path`` imports, anywhere in it (``TYPE_CHECKING`` blocks and
    function bodies included). ``from pkg import name`` is an import of ``pkg.name`` when that
    is a module, else of ``pkg`` (so ``from hub import X`` counts ``hub/__init__.py``)."""
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path.parent)
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in modules else base)
    return {name for name in found if name in modules}


def test_no_import_cycle_among_hub_modules():
    paths = {_module_name(path): path for path in HUB.rglob("*.py")}
    graph = {name: _hub_imports(path, set(paths)) - {name} for name, path in paths.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert [" -> ".join(cycle) for cycle in cycles] == []
