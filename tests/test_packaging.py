"""pyproject.toml and environment.yml must list the same packages, so they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
# conda names that differ from PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}
CONDA_ONLY = {"python", "pip"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", req)
    assert m, req
    return m.group(1).lower(), m.group(2).replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["test"]
    return dict(_split(r) for r in reqs)


def environment_requirements() -> dict[str, str]:
    reqs = {}
    in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"\s+- ([^:#]+?)\s*(#.*)?$", line)
        if in_deps and m:
            name, spec = _split(m.group(1))
            if name not in CONDA_ONLY:
                reqs[CONDA_TO_PYPI.get(name, name)] = spec
    return reqs


def test_environment_matches_pyproject():
    py, env = pyproject_requirements(), environment_requirements()
    assert sorted(py) == sorted(env), (
        f"only in pyproject.toml: {sorted(set(py) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(py))}"
    )
    assert py == env, "version bounds differ between pyproject.toml and environment.yml"


def test_required_packages_are_declared():
    py = pyproject_requirements()
    for name in ["torch", "numpy", "pandas", "matplotlib", "seaborn", "scikit-learn",
                 "jupyterlab", "nbval", "ipywidgets", "pooch", "tqdm", "pytest"]:
        assert name in py, f"{name} missing from pyproject.toml"
