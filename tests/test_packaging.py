"""The wheel: everything under the `gateway` namespace, runnable outside the checkout."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gateway").rglob("__init__.py")}
    assert found <= listed, f"add to pyproject [tool.setuptools] packages: {sorted(found - listed)}"
    assert config["package-dir"] == {"gateway": "gateway", "gateway.plugins": "plugins", "gateway.policies": "policies"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (path,) = out.glob("aduana-*.whl")
    return path


def test_wheel_installs_nothing_generic_at_the_top_level(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"gateway"}
    assert "gateway/policies/gdpr.yaml" in names and "gateway/plugins/actions.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "aduana = gateway.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


@pytest.mark.e2e
def test_wheel_runs_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    config = tmp_path / "aduana.yaml"
    config.write_text(
        "contracts:\n  acme:\n    vendor: Acme\n    policy_packs: [baseline, gdpr, hipaa, pci-dss]\n"
        "    routes:\n      - {name: hd, prefix: /hd, upstream: 'http://127.0.0.1:9'}\n",
        encoding="utf-8",
    )
    code = (
        "import gateway, sys; from pathlib import Path;"
        f"assert Path(gateway.__file__).is_relative_to({str(site)!r}), gateway.__file__;"
        "from gateway.cli import main; main(['config', 'check', sys.argv[1]])"
    )
    result = subprocess.run([sys.executable, "-c", code, str(config)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ok:" in result.stdout
