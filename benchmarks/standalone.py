"""Newsdesk modules loaded from their files, without importing the package.

For the steps that run on a GPU machine with torch and numpy but none of newsdesk's other
dependencies: importing `embeddings.…` runs embeddings/__init__.py, which needs them all. Only
modules that import nothing of newsdesk can be loaded this way (each says so).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


def load_module(relative: str) -> ModuleType:
    """The module in the file `relative` to the repository root, e.g.
    "embeddings/ranking/fusion.py"."""
    path = REPO / relative
    name = f"standalone_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module
