"""The layering contract (pyproject.toml [tool.importlinter], run by `make test`): the real tree
keeps it, and a deliberate violation breaks it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("domain", "projections", "api", "scripts", "tests")


def _lint(cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_tree_keeps_the_layering_contract() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_domain_module_importing_the_api_breaks_it(tmp_path: Path) -> None:
    """A tree of empty packages laid out like ours, with one forbidden import, under the same
    contract."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "api" / "routes.py").write_text("import domain\n")
    (tmp_path / "domain" / "fund.py").write_text("from api import routes\n")  # the violation
    (tmp_path / "pyproject.toml").write_text(_contract())
    done = _lint(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0, done.stdout
    assert "domain.fund -> api.routes" in done.stdout, done.stdout
    assert "BROKEN" in done.stdout


def test_the_product_importing_scripts_breaks_it(tmp_path: Path) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "scripts" / "demo.py").write_text("")
    (tmp_path / "api" / "cli.py").write_text("import scripts.demo\n")  # the violation
    (tmp_path / "pyproject.toml").write_text(_contract())
    done = _lint(tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode != 0, done.stdout
    assert "api.cli -> scripts.demo" in done.stdout, done.stdout


def _contract() -> str:
    """The [tool.importlinter] tables of our pyproject.toml, alone."""
    kept, inside = [], False
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        if line.startswith("["):
            inside = line.lstrip("[").startswith("tool.importlinter")
        if inside:
            kept.append(line)
    return "\n".join(kept) + "\n"
