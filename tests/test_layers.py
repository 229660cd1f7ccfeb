"""The package's layers, read from the source: every import points down (or sideways within a layer)."""

from __future__ import annotations

import ast
from pathlib import Path

import stancekit

PACKAGE = Path(stancekit.__file__).parent

LAYERS = [
    {"stancekit", "labels", "errors", "paths", "files", "progress", "prediction", "artifacts", "metrics"},
    {"io"},
    {"data"},
    {"classifiers"},
    {"registry"},
    {"evaluation", "views"},
    {"jobs"},
    {"profiles", "annotation"},
    {"api"},
    {"cli", "__main__"},
]
"""Each part of the package (a top-level module or a sub-package) by layer, lowest first; ``stancekit``
is the package itself (its ``__version__``)."""
LAYER = {part: number for number, parts in enumerate(LAYERS) for part in parts}


def imported_parts(path: Path) -> set[str]:
    """The parts of stancekit a module imports, anywhere in it (functions included): for
    ``from ..io.lines import x`` in a sub-package, ``io``."""
    package = list(path.relative_to(PACKAGE.parent).parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                names = [*base, *(node.module.split(".") if node.module else [])]
                targets = [names] if node.module else [[*names, alias.name] for alias in node.names]
            else:
                targets = [node.module.split(".")]
        elif isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        else:
            continue
        for target in targets:
            if target[0] == "stancekit":
                found.add(target[1] if len(target) > 1 and _is_part(target[1]) else "stancekit")
    return found


def _is_part(name: str) -> bool:
    """True for a module or sub-package of stancekit, False for a name defined in the package itself."""
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def part_of(path: Path) -> str:
    """The part of the package a source file belongs to: its sub-package, or itself as a module."""
    relative = path.relative_to(PACKAGE)
    if len(relative.parts) > 1:
        return relative.parts[0]
    return "stancekit" if relative.stem == "__init__" else relative.stem


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "_data" not in p.parts)


def test_every_part_of_the_package_has_a_layer():
    assert {part_of(path) for path in modules()} <= set(LAYER)


def test_imports_point_down_the_layers():
    upward = []
    for path in modules():
        part = part_of(path)
        if part == "stancekit":
            continue  # the package's lazy names reach the top on purpose
        for target in imported_parts(path):
            if LAYER[target] > LAYER[part]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert upward == []


def test_models_import_nothing_above_the_foundation():
    """classifiers/ never imports the registry, evaluation, jobs, views, api or cli (nor io or data)."""
    foundation = LAYERS[0] | {"classifiers"}
    above = {f"{path.relative_to(PACKAGE)}: {target}" for path in (PACKAGE / "classifiers").rglob("*.py")
             for target in imported_parts(path) if target not in foundation}
    assert above == set()


def test_metrics_is_a_leaf():
    assert imported_parts(PACKAGE / "metrics.py") <= {"labels"}


def test_the_layer_test_sees_relative_imports_in_functions():
    """The reader of imports finds an import inside a function, relative or absolute."""
    sample = PACKAGE / "classifiers" / "ensemble.py"
    assert "artifacts" in imported_parts(sample) and "metrics" in imported_parts(sample)
    assert "progress" in imported_parts(PACKAGE / "evaluation" / "results.py")  # imported inside a function
    assert "registry" in imported_parts(PACKAGE / "cli.py")
