"""The environment is declared once and kept consistent: pyproject.toml, environment.yml, the
lock file that `make setup` installs (requirements/lock-linux-cpu.txt), the Makefile, CI.

* every package the library and the notebooks import is a declared dependency;
* pyproject.toml and environment.yml list the same packages with the same bounds;
* the lock pins every declared package (extras too) at a version both files allow, with
  hashes, and the torch version that `.ci/run` installs;
* the supported Pythons agree everywhere (metadata, ruff, conda, the lock, the README);
* `make setup` fetches the CPU build of torch unless told otherwise (dry runs of make);
* the plain pip route, `pip install -e '.[slides]'`, resolves in this environment (a dry run).
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock-linux-cpu.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
# conda names that differ from PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}
# Extras that the lock leaves out (a Kaggle download is optional and needs an account).
UNLOCKED_EXTRAS = {"kaggle"}


def _req(text: str) -> Requirement:
    return Requirement(text)


def pyproject_requirements(extras: bool = True) -> dict[str, Requirement]:
    """name -> requirement: the runtime dependencies and (with `extras`) the locked extras."""
    reqs = list(PROJECT["dependencies"])
    if extras:
        for name, extra in PROJECT.get("optional-dependencies", {}).items():
            if name not in UNLOCKED_EXTRAS:
                reqs += extra
    return {canonicalize_name(r.name): r for r in map(_req, reqs)}


def environment_requirements() -> dict[str, Requirement]:
    """name -> requirement of environment.yml (conda and pip sections), python included."""
    reqs, in_deps = {}, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"\s+- ([^:#]+?)\s*(#.*)?$", line)
        if in_deps and m and m.group(1) != "pip":
            r = _req(m.group(1))
            r.name = CONDA_TO_PYPI.get(r.name, r.name)
            reqs[canonicalize_name(r.name)] = r
    return reqs


def lock_pins() -> dict[str, tuple[Version, list[str]]]:
    """name -> (pinned version, its hashes) of every package in the lock."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if m := re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line):
            current = canonicalize_name(m.group(1))
            assert current not in pins, f"{current} is pinned twice in {LOCK.name}"
            pins[current] = (Version(m.group(2)), [])
        elif m := re.match(r"\s+--hash=sha256:([0-9a-f]{64})", line):
            pins[current][1].append(m.group(1))
        elif line.strip() and not line.lstrip().startswith("#"):
            raise AssertionError(f"{LOCK.name}: a line that is no exact pin: {line!r}")
    return pins


def make_variable(name: str) -> str:
    m = re.search(rf"^{name}\s*\??=\s*(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert m, f"the Makefile sets no {name}"
    return m.group(1).strip()


# --------------------------------------------------------------------------- declarations


def _third_party_imports(source: str) -> set[str]:
    """Top-level modules imported by `source` (IPython magics are dropped)."""
    code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.splitlines())
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "course_utils"}


def test_library_and_notebook_imports_are_runtime_dependencies():
    """A student's `pip install -e .` (no extras) gives every module the lessons import, and
    no notebook imports the maintainers' `tools` (it is not installed)."""
    declared = set(pyproject_requirements(extras=False))
    dists = importlib.metadata.packages_distributions()
    sources = {
        p.relative_to(ROOT).as_posix(): p.read_text() for p in (ROOT / "course_utils").rglob("*.py")
    }
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        sources[nb.name] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "code"
        )
    missing = []
    for where, source in sources.items():
        for module in sorted(_third_party_imports(source)):
            providers = {canonicalize_name(d) for d in dists.get(module, [])}
            if not providers & declared:
                missing.append(f"{where} imports {module} (from {sorted(providers) or '?'})")
    assert not missing, "not a runtime dependency in pyproject.toml:\n" + "\n".join(missing)


def test_environment_matches_pyproject():
    py, env = pyproject_requirements(), environment_requirements()
    env_python = env.pop("python")
    assert sorted(py) == sorted(env), (
        f"only in pyproject.toml: {sorted(set(py) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(py))}"
    )
    differ = {
        n: (str(py[n].specifier), str(env[n].specifier))
        for n in py
        if py[n].specifier != env[n].specifier
    }
    assert not differ, f"bounds differ (pyproject.toml, environment.yml): {differ}"
    lower = re.search(r">=\s*([\d.]+)", PROJECT["requires-python"]).group(1)
    assert f">={lower}" in str(env_python.specifier), (
        f"environment.yml asks for {env_python}, pyproject.toml for {PROJECT['requires-python']}"
    )


def test_license_is_an_spdx_expression():
    """setuptools deprecates `license = {text = ...}` (builds stop working in 2027)."""
    assert PROJECT["license"] == "Apache-2.0"
    assert not [c for c in PROJECT.get("classifiers", []) if c.startswith("License ::")]
    backend = [_req(r) for r in PYPROJECT["build-system"]["requires"]]
    setuptools = next(r for r in backend if r.name == "setuptools")
    assert not setuptools.specifier.contains("76.9"), "SPDX `license` needs setuptools >= 77"


# --------------------------------------------------------------------------- supported Pythons


def test_supported_pythons_agree():
    """requires-python, the classifiers, ruff's target, conda's python, the lock's Python and
    the README name the same range: 3.11 (holidays >= 0.109 needs it) to 3.13."""
    lowest = Version(re.search(r">=\s*([\d.]+)", PROJECT["requires-python"]).group(1))
    tested = sorted(
        Version(c.rsplit(":: ", 1)[1])
        for c in PROJECT["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert tested and tested[0] == lowest, (tested, lowest)
    highest = tested[-1]
    assert PYPROJECT["tool"]["ruff"]["target-version"] == f"py3{lowest.minor}"
    assert Version(make_variable("LOCK_PYTHON")) == lowest
    env_python = environment_requirements()["python"].specifier
    assert env_python.contains(str(lowest)) and env_python.contains(str(highest))
    assert not env_python.contains(f"3.{lowest.minor - 1}")
    assert not env_python.contains(f"3.{highest.minor + 1}")
    readme = (ROOT / "README.md").read_text()
    assert f"Python {lowest}" in readme and f"{highest}" in readme, (
        f"the README should say Python {lowest} to {highest}"
    )
    holidays = importlib.metadata.metadata("holidays").get("Requires-Python") or ""
    if holidays:  # the tightest runtime dependency
        assert SpecifierSet(holidays).contains(str(lowest))


# --------------------------------------------------------------------------- the lock


def test_lock_pins_exact_versions_with_hashes():
    pins = lock_pins()
    assert len(pins) > 50, "the lock should pin every package, transitive ones too"
    unhashed = [n for n, (_, hashes) in pins.items() if not hashes and n != "torch"]
    assert not unhashed, f"pins without --hash in {LOCK.name}: {unhashed} (run `make lock`)"
    assert not pins["torch"][0].local, "torch is pinned without a build label (+cpu)"
    assert not pins["torch"][1], "torch has no hashes: its build depends on the hardware"


def test_lock_satisfies_pyproject_and_environment_yml():
    pins = lock_pins()
    problems = []
    for source, reqs in (
        ("pyproject.toml", pyproject_requirements()),
        ("environment.yml", environment_requirements()),
    ):
        for name, req in reqs.items():
            if name == "python":
                if not req.specifier.contains(make_variable("LOCK_PYTHON")):
                    problems.append(f"{source}: {req} excludes the lock's Python")
            elif name not in pins:
                problems.append(f"{source}: {name} is not in the lock")
            elif not req.specifier.contains(pins[name][0], prereleases=True):
                problems.append(f"{source}: {req} but the lock pins {pins[name][0]}")
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_ci_installs_the_locked_torch():
    """.ci/run installs torch (as the CPU build) before `make setup`: the same version."""
    ci = (ROOT / ".ci" / "run").read_text()
    versions = set(re.findall(r"torch==([\d.]+)", ci))
    assert versions == {str(lock_pins()["torch"][0])}, versions


# --------------------------------------------------------------------------- make (dry runs)

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make_dry_run(*args: str) -> str:
    """The commands `make -n` would run (as if nothing were built yet)."""
    # Only PATH from the environment: a make that runs these tests (`make test-latest`) passes
    # its own variables (VENV=...) down through the environment.
    res = subprocess.run(
        ["make", "-n", "-B", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


@needs_make
def test_setup_installs_the_cpu_build_of_torch_by_default():
    torch = lock_pins()["torch"][0]
    out = make_dry_run("setup")
    assert f"pip install torch=={torch} --index-url https://download.pytorch.org/whl/cpu" in out
    assert f"pip install --require-hashes -r {LOCK.relative_to(ROOT)}" in out
    assert out.index("pip install torch==") < out.index("--require-hashes"), "torch comes first"


@needs_make
def test_setup_can_install_a_cuda_build():
    torch = lock_pins()["torch"][0]
    out = make_dry_run("setup", "TORCH=cu128")
    assert f"pip install torch=={torch} --index-url https://download.pytorch.org/whl/cu128" in out
    assert f"'{torch}+cu128'" in out  # the check that replaces an installed CPU build


@needs_make
def test_lab_allows_root_only_as_root():
    out = make_dry_run("lab")
    line = next(ln for ln in out.splitlines() if "jupyter lab" in ln)
    assert ("--allow-root" in line) == (os.geteuid() == 0), line


@needs_make
def test_setup_gives_up_quickly_on_an_unreachable_index():
    """One line per step (pip's output goes to a log), short network timeouts, and the way
    out named when PyTorch's index does not answer."""
    out = make_dry_run("setup")
    assert "--timeout 15 --retries 1" in out
    assert ">> .venv/setup.log 2>&1" in out
    make = (ROOT / "Makefile").read_text()
    assert 'TORCH_PIP_ARGS="--find-links /path/to/wheels"' in make


def test_plain_pip_route_resolves():
    """`pip install -e '.[slides]'` (the route without make) asks for nothing this environment
    lacks: a dry run offline (no index, no build isolation) installs only the course itself."""
    pytest.importorskip(
        "setuptools", reason="the offline dry run builds with this env's setuptools"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull  # this machine's pip settings (mirrors) stay out of it
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--no-build-isolation",
            "--quiet",
            "--report",
            "-",
            "-e",
            ".[slides]",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    names = [item["metadata"]["name"] for item in json.loads(res.stdout)["install"]]
    assert names == [PROJECT["name"]], f"pip would also install {names}: the lock lacks them"
