"""The locks still satisfy pyproject.toml.

`requirements.lock` is what a deployment installs (`pip install --require-hashes -r requirements.lock`,
docs/operations.md), `requirements-test.lock` the same plus the `test` extra. A dependency added to
pyproject.toml, or a bound moved, that a lock no longer meets fails here until the locks are made
again with the command written at the top of each, so an operator never installs from a lock that
contradicts the project.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT_LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
AGAIN = "make the locks again with the command at the top of each (docs/operations.md, 'Installing')"


@dataclass(frozen=True)
class Pin:
    name: str  # canonical: "sqlalchemy", "pydantic-settings"
    version: Version
    marker: Marker | None  # where the lock installs it ("python_full_version < '3.11.3'"), if not everywhere
    hashes: int


def _project() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fp:
        return tomllib.load(fp)["project"]


def read_lock(text: str) -> list[Pin]:
    """The pins of a lock in pip's requirements format: one `name==version [; marker]` each, with
    its `--hash` options, continued over lines that end in a backslash."""
    pins, entry = [], ""
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        entry += " " + line.removesuffix("\\")
        if line.endswith("\\"):
            continue
        entry, whole = "", entry.strip()
        if not whole or whole.startswith("-"):  # nothing, or an option of the file (an index, say)
            continue
        spec, *hashes = whole.split("--hash=")
        requirement = Requirement(spec.strip())
        exact = [s for s in requirement.specifier if s.operator == "=="]
        if len(exact) != 1 or len(requirement.specifier) != 1:
            raise ValueError(f"not an exact pin in the lock: {spec.strip()}")
        pins.append(Pin(canonicalize_name(requirement.name), Version(exact[0].version), requirement.marker,
                        len(hashes)))
    return pins


def unmet(requirements: Iterable[str], pins: list[Pin]) -> list[str]:
    """What the pins fail of the requirements, one line each: a requirement nobody pinned, or
    pinned at a version outside its bounds. Empty when the lock satisfies them all."""
    problems = []
    for line in requirements:
        requirement = Requirement(line)
        found = [pin for pin in pins if pin.name == canonicalize_name(requirement.name)]
        if not found:
            problems.append(f"{line}: not in the lock")
        for pin in found:
            if not requirement.specifier.contains(pin.version, prereleases=True):
                problems.append(f"{line}: locked at {pin.version}")
    return problems


@pytest.fixture(scope="module")
def deployment() -> list[Pin]:
    return read_lock(DEPLOYMENT_LOCK.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tested() -> list[Pin]:
    return read_lock(TEST_LOCK.read_text(encoding="utf-8"))


def test_the_deployment_lock_pins_every_dependency_within_its_bounds(deployment):
    assert unmet(_project()["dependencies"], deployment) == [], AGAIN


def test_the_test_lock_pins_the_test_extra_too(tested):
    project = _project()
    assert unmet(project["dependencies"] + project["optional-dependencies"]["test"], tested) == [], AGAIN


def test_the_tests_run_on_the_versions_a_deployment_installs(deployment, tested):
    in_tests = {(pin.name, str(pin.marker)): pin.version for pin in tested}
    differ = [f"{pin.name} {pin.version} deployed, {in_tests.get((pin.name, str(pin.marker)))} tested"
              for pin in deployment if in_tests.get((pin.name, str(pin.marker))) != pin.version]
    assert differ == [], AGAIN


def test_every_pin_carries_its_hashes(deployment, tested):
    """`pip install --require-hashes` refuses a whole lock for one pin without a hash."""
    assert [pin.name for pin in deployment + tested if not pin.hashes] == [], AGAIN


def test_a_requirement_the_lock_does_not_meet_is_named(deployment):
    assert unmet(["aiogram>=4", "SQLAlchemy[asyncio]>=2.0.36,<2.2", "uvloop>=0.21"], deployment) == [
        f"aiogram>=4: locked at {next(pin.version for pin in deployment if pin.name == 'aiogram')}",
        "uvloop>=0.21: not in the lock",
    ]


def test_a_lock_entry_is_read_with_its_marker_and_hashes():
    pins = read_lock("# made by a tool\n"
                     "async-timeout==5.0.1 ; python_full_version < '3.11.3' \\\n"
                     "    --hash=sha256:aa \\\n"
                     "    --hash=sha256:bb\n"
                     "    # via aiohttp\n"
                     "aiogram==3.31.0\n")
    assert pins == [Pin("async-timeout", Version("5.0.1"), Marker("python_full_version < '3.11.3'"), 2),
                    Pin("aiogram", Version("3.31.0"), None, 0)]
    with pytest.raises(ValueError, match="not an exact pin"):
        read_lock("aiogram>=3.31\n")
