"""Rules about the code itself, checked like behaviour."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from hub import hookspecs

HUB = Path(__file__).resolve().parent.parent / "hub"
PROVIDER_PACKAGES = ("twilio", "vonage", "hub_twilio", "hub_vonage")


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
