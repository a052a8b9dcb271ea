"""Arrows point down: the import contracts in pyproject.toml are kept, and no module or folder of the
product imports itself round a cycle.

The contracts (import-linter, `[tool.importlinter]`): bot assembles; handlers and border_api are two
front ends that know nothing of each other; services is below both and knows nothing of Telegram;
handlers' feature folders share only handlers/common; services' domain packages are layered from the
kernel up. A change that breaks one fails here, with import-linter's account of the offending chain.
"""

from __future__ import annotations

import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace

import grimp
import pytest
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
PRODUCT = ("bot", "handlers", "border_api", "services")

configuration.configure()  # import-linter's adapters, as its command line sets them up


def _contracts() -> dict[str, dict]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    return {contract["id"]: contract for contract in config["contracts"]}


def _folders(package: str) -> set[str]:
    return {path.parent.name for path in (ROOT / package).glob("*/__init__.py")}


def _layered(contract: dict) -> set[str]:
    return {name.strip() for layer in contract["layers"] for name in layer.replace(":", "|").split("|")}


@pytest.mark.parametrize("contract", sorted(_contracts()))
def test_the_import_contract_is_kept(contract, capsys):
    kept = lint_imports(config_filename=str(PYPROJECT), limit_to_contracts=(contract,), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out


def test_every_feature_folder_and_every_domain_package_is_under_a_contract():
    # A folder missing from its contract would be free of it: a new feature could import the others.
    contracts = _contracts()
    assert _layered(contracts["features"]) == _folders("handlers")
    services = {path.stem for path in (ROOT / "services").glob("*.py") if path.stem != "__init__"}
    assert _layered(contracts["services"]) == _folders("services") | services


def _components(nodes: Iterable[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan): the cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def graph() -> SimpleNamespace:
    built = grimp.build_graph(*PRODUCT, cache_dir=None)  # imports under TYPE_CHECKING count too
    modules = set(built.modules)
    imports = {module: built.find_modules_directly_imported_by(module) & modules for module in modules}
    packages = {module for module in modules if built.find_children(module)}
    return SimpleNamespace(modules=modules, imports=imports, packages=packages, children=built.find_children)


def test_no_module_imports_itself_round_a_cycle(graph):
    assert _components(graph.modules, graph.imports) == []


def test_no_folder_imports_itself_round_a_cycle(graph):
    """A folder is the modules directly in it: services/ (the container) may import services/booking/,
    but then nothing in services/booking/ may import a module directly in services/."""

    def folder(module: str) -> str:
        return module if module in graph.packages else module.rpartition(".")[0]

    between: dict[str, set[str]] = defaultdict(set)
    for module, imported in graph.imports.items():
        between[folder(module)] |= {folder(other) for other in imported} - {folder(module)}
    assert _components({folder(module) for module in graph.modules}, between) == []


def test_no_two_siblings_import_each_other_whole(graph):
    """The children of each package (and the top-level packages), each subpackage with all that is in
    it: services/booking/ and services/notices/ must not import each other by any of their modules."""
    cycles = {}
    for parent in [None, *sorted(graph.packages)]:
        siblings = set(PRODUCT) if parent is None else set(graph.children(parent))

        def sibling(module: str) -> str | None:
            return next((s for s in siblings if module == s or module.startswith(s + ".")), None)

        between: dict[str, set[str]] = defaultdict(set)
        for module, imported in graph.imports.items():
            if (mine := sibling(module)) is not None:
                between[mine] |= {sibling(other) for other in imported} - {mine, None}
        if found := _components(siblings, between):
            cycles[parent or "(top level)"] = found
    assert cycles == {}


def test_the_bot_implements_what_the_support_handlers_ask_of_it():
    """handlers/support asks for a relay and notes by Protocol (handlers.support.relay); bot/ provides
    them. A method renamed on one side only would otherwise surface as a driver's lost message."""
    from bot.support import SupportRelay
    from bot.support_notes import SupportNotes
    from handlers.support.relay import Notes, Relay

    services = SimpleNamespace(support=None)
    assert isinstance(SupportRelay(services, None, None), Relay)
    assert isinstance(SupportNotes(services, None, None), Notes)
