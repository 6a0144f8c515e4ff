"""Installed-looking plugin distributions, made on the fly for tests."""

from __future__ import annotations

import textwrap
from pathlib import Path


def make_distribution(site: Path, dist: str, module: str, source: str) -> None:
    """A module plus a dist-info with a `hub` entry point, as `pip install` would leave them;
    put ``site`` on sys.path / PYTHONPATH and importlib.metadata finds it."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[hub]\n{module.removeprefix('hub_')} = {module}\n")
