"""Dependencies point down: every `portal` module imports only from its own layer or the layers
below it, no feature imports another feature's views, and no import cycle exists (imports inside
functions count: they only hide a cycle). Read from the source with `ast`; nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parent.parent / "portal"

# Bottom to top. A module belongs to the layer of the longest prefix listed here.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundations",
        (
            "portal.config",
            "portal.db",
            "portal.write_gate",
            "portal.extensions",
            "portal.logs",
            "portal.labels",
            "portal.passwords",
            "portal.i18n",
            "portal.stored_words",
            "portal.session_cookie",
        ),
    ),
    ("models and consent texts", ("portal.models", "portal.consent_documents")),
    (
        "audit and operations below the features",
        (
            "portal.audit",
            "portal.audit_spool",
            "portal.audit_trail",
            "portal.session_state",
            "portal.ops",
        ),
    ),
    ("rules", ("portal.policies",)),
    ("sign-in gate", ("portal.security",)),
    ("web helpers", ("portal.web",)),
    (
        "features",
        (
            "portal.about",
            "portal.admin",
            "portal.audit_report",
            "portal.auth",
            "portal.calendar",
            "portal.cases",
            "portal.child",
            "portal.family",
            "portal.feedback",
            "portal.invitations",
            "portal.ladders",
            "portal.messages",
            "portal.plans",
            "portal.rights",
        ),
    ),
    ("demo clinic", ("portal.demo",)),
    ("commands", ("portal.ops.cli", "portal.ops.data_commands")),
    ("the app factory", ("portal",)),
]
FEATURES = dict(LAYERS)["features"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PORTAL.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in PORTAL.rglob("*.py")}


def _resolve(name: str) -> str | None:
    """The portal module an import names (`from portal.x import y` may name module x.y)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(_resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update(_resolve(f"{node.module}.{alias.name}") for alias in node.names)
    # A module's own packages are always imported before it: that edge says nothing.
    return {
        name
        for name in found
        if name is not None and name != module and not module.startswith(name + ".")
    }


GRAPH = {module: _imports(module) for module in MODULES}


def layer_of(module: str) -> int:
    best, best_length = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def _feature_of(module: str) -> str | None:
    return next((f for f in FEATURES if module == f or module.startswith(f + ".")), None)


def _is_views(module: str) -> bool:
    return module.rpartition(".")[2].endswith("views")


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_no_module_imports_from_a_layer_above_it() -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in GRAPH.items()
        for target in targets
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_no_feature_imports_another_features_views() -> None:
    crossing = [
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _is_views(target) and _feature_of(module) not in (None, _feature_of(target))
    ]
    assert crossing == []


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycle() -> None:
    assert _cycles() == []


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    """The checks themselves: a made-up cycle and a web helper importing a feature fail."""
    saved = {module: set(targets) for module, targets in GRAPH.items()}
    try:
        GRAPH["portal.web.htmx"].add("portal.plans.services")
        GRAPH["portal.plans.services"].add("portal.web.htmx")
        assert ["portal.plans.services", "portal.web.htmx"] in _cycles()
        assert layer_of("portal.plans.services") > layer_of("portal.web.htmx")
    finally:
        GRAPH.clear()
        GRAPH.update(saved)


def test_test_modules_never_import_each_other() -> None:
    """Shared test code lives in tests/support/ (or a suite's conftest.py and helper modules such as
    tests/e2e/sweep.py); a test module imported by another would run its tests' imports twice and
    tie two files' fixtures together."""
    tests = Path(__file__).resolve().parent
    found = []
    for path in sorted(tests.rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_"):
                    found.append(f"{path.relative_to(tests)} imports {name}")
    assert found == []
