"""The built wheel, installed in a clean virtual environment, runs (issue 14, item 1).

``uv build`` makes the sdist and, from it, the wheel; a new venv gets the wheel with the
``demo`` extra, its dependencies pinned to ``uv.lock`` (``uv export``). uv takes the
wheels from its cache (the project's own environment already holds every one), but on a
fresh machine it still asks the index for their listings: ``uv sync --frozen`` fetched
them straight from the lock's URLs, so the listings were never cached and an
``--offline`` install cannot resolve the pins (it failed that way in CI on a fresh machine).
From a folder outside the source tree, ``kryten-actors --version`` and a short demo run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
pytestmark = pytest.mark.slow


def uv() -> list[str]:
    """The uv command: ``$UV`` (set by ``uv run``), or on PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv is needed (the README's only requirement besides Python); put it on PATH"
    return [found]


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (
        f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    )
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(*uv(), "build", "--offline", "--out-dir", out, ROOT, cwd=out)
    return out


@pytest.fixture(scope="module")
def clean_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("clean")
    pins = work / "requirements.txt"
    run(
        *uv(), "export", "--project", ROOT, "--frozen", "--no-dev", "--extra", "demo",
        "--no-emit-project", "--no-hashes", "--quiet", "-o", pins, cwd=work,
    )  # fmt: skip
    venv = work / "venv"
    run(*uv(), "venv", "--offline", "--quiet", "--python", sys.executable, venv, cwd=work)
    wheel = next(dist.glob("*.whl"))
    run(
        *uv(), "pip", "install", "--quiet", "--python", venv / "bin" / "python",
        "-r", pins, f"{wheel}[demo]", cwd=work,
    )  # fmt: skip
    return venv


def test_build_makes_a_wheel_and_an_sdist_with_license_and_changelog(dist: Path) -> None:
    expected = version("kryten-actors")
    wheel = dist / f"kryten_actors-{expected}-py3-none-any.whl"
    sdist = dist / f"kryten_actors-{expected}.tar.gz"
    assert wheel.is_file()
    assert sdist.is_file()
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "kryten_actors/py.typed" in names
    assert f"kryten_actors-{expected}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith("tests/")]
    with tarfile.open(sdist) as archive:
        members = {
            Path(m).relative_to(f"kryten_actors-{expected}").as_posix()
            for m in archive.getnames()
            if "/" in m
        }
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml"} <= members
    assert "tests/test_wheel.py" in members


def test_the_installed_wheel_reports_its_version(clean_venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    out = run(clean_venv / "bin" / "kryten-actors", "--version", cwd=tmp_path, env=env)
    assert out.strip() == version("kryten-actors")
    where = run(
        clean_venv / "bin" / "python",
        "-c",
        "import kryten_actors; print(kryten_actors.__file__, kryten_actors.__version__)",
        cwd=tmp_path,
        env=env,
    )
    path, reported = where.split()
    assert Path(path).is_relative_to(clean_venv)  # the wheel's copy, not the source tree
    assert reported == version("kryten-actors")


def test_the_installed_wheel_runs_the_demo(clean_venv: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    out = run(
        clean_venv / "bin" / "kryten-actors",
        "demo",
        "--seconds",
        "4",
        "--channels",
        "2",
        cwd=tmp_path,
        env=env,
    )
    assert "nats-server on nats://127.0.0.1:" in out
    assert "Ran 4.0 s on the seed profile" in out
