"""The package reads as the pipeline, and the imports hold it: profiles -> render -> lock -> apply -> verify,
with the host's facts beside them, lock consumers above, and the commands composing the stages. Every import
(module level or inside a function) of every module is checked against the allowed directions; a back-edge
fails with the module and the line."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "provision"

# Each layer, and the layers it may import (besides itself). Modules not named here are the base.
LAYER_OF_PACKAGE = {"profile": "profile", "machine": "machine", "lock": "lock", "apply": "apply", "bench": "bench",
                    "consumers": "consumers", "adopt": "adopt", "commands": "commands"}  # fmt: skip
LAYER_OF_MODULE = {"render": "render", "generated": "render", "cli": "commands", "app": "commands", "quick": "entry",
                   "__main__": "entry", "config": "settings"}  # fmt: skip
ALLOWED = {
    "base": set(),
    "profile": {"base"},
    "render": {"profile", "base"},
    "machine": {"profile", "base"},
    "lock": {"profile", "machine", "base"},
    "settings": {"lock", "profile", "base"},  # the machine's settings (mirrors, caches), which the commands read
    "apply": {"lock", "machine", "profile", "base"},
    "bench": {"machine", "profile", "base"},  # not apply: the command hands bench what apply installed
    "consumers": {"apply", "lock", "machine", "profile", "render", "base"},
    "adopt": {"lock", "profile", "render", "base"},
    "commands": {"consumers", "adopt", "bench", "apply", "lock", "machine", "render", "profile", "settings", "base"},
    "entry": {"base", "commands"},  # the quick path reads layout only; anything else goes through cli
}
# One import runs against the pipeline on purpose: the pack's `__main__`, once it has installed provision from
# the pack, hands the command line over to the entry point, as the `provision` script would.
HAND_OVER = {("provision.consumers.pack_runner", "provision.quick")}
# What runs before anything else is loaded: the quick path's answer and the pack's runner import (at module
# level) the standard library and these modules only, nothing that imports a third-party package.
STDLIB_ONLY = {"provision", "provision.quick", "provision.layout", "provision.platforms",
               "provision.consumers.pack_runner"}  # fmt: skip


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYER_OF_PACKAGE:
        return LAYER_OF_PACKAGE[parts[1]]
    return LAYER_OF_MODULE.get(parts[-1], "base") if len(parts) == 2 else "base"


def imports(path: Path, module_level: bool = False) -> list[tuple[int, str]]:
    """(line, imported module) for every import of provision in the file (`module_level`: only those that run
    when the module is imported), relative ones resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body if module_level else ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from . import grammar`: the names may be modules themselves
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").is_file() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).is_file()
                found.append((node.lineno, candidate if is_module else target))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return [(line, module) for line, module in found if module == "provision" or module.startswith("provision.")]


def test_no_import_runs_against_the_pipeline() -> None:
    back_edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "scripts" in path.parts:  # the benchmark scripts run inside the user's environment, not provision's
            continue
        source = module_name(path)
        mine = layer(source)
        for line, target in imports(path):
            theirs = layer(target)
            allowed = theirs == mine or theirs in ALLOWED[mine] or (source, target) in HAND_OVER
            if not allowed and target != "provision":
                back_edges.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mine} imports {theirs} ({target})")
    assert not back_edges, "\n".join(back_edges)


def test_the_quick_path_needs_nothing_but_the_standard_library() -> None:
    for module in STDLIB_ONLY - {"provision"}:
        path = PACKAGE.parent / (module.replace(".", "/") + ".py")
        reached = {target for _, target in imports(path, module_level=True)}
        assert reached <= STDLIB_ONLY, f"{module} imports {sorted(reached - STDLIB_ONLY)}"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        outside = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
        outside += [node.module for node in tree.body if isinstance(node, ast.ImportFrom) and not node.level
                    and node.module and not node.module.startswith("provision")]  # fmt: skip
        third_party = [name for name in outside if name.split(".")[0] not in sys.stdlib_module_names]
        assert not third_party, f"{module} imports {third_party} when it is imported"
    init = (PACKAGE / "__init__.py").read_text(encoding="utf-8")
    assert not [node for node in ast.parse(init).body if isinstance(node, (ast.Import, ast.ImportFrom))]
