"""Newsdesk modules loaded from their files, without importing the package.

For the steps that run on a GPU machine with torch and numpy but none of newsdesk's other
dependencies: importing `embeddings.…` runs embeddings/__init__.py, which needs them all. Only
modules that import nothing of newsdesk can be loaded by path (each says so); a module whose
newsdesk imports are all light (the multilingual model on torch) is imported with the
packages' `__init__` files skipped.
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


def import_skipping_inits(name: str) -> ModuleType:
    """The module `name` ("embeddings.models.e5_torch"), imported as usual except that the
    packages above it are made empty instead of running their `__init__.py`; for this process
    only (the packages stay empty)."""
    parts = name.split(".")
    for depth in range(1, len(parts)):
        package = ".".join(parts[:depth])
        if package not in sys.modules:
            module = ModuleType(package)
            module.__path__ = [str(REPO.joinpath(*parts[:depth]))]
            sys.modules[package] = module
    return importlib.import_module(name)
