"""The architecture is a checked contract, not a hope: the core imports no framework, and types hold."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_core_imports_no_platform_io_or_storage_framework() -> None:
    done = run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_the_core_passes_strict_type_checking() -> None:
    done = run(str(BIN / "mypy"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_passes_the_linter() -> None:
    done = run(str(BIN / "ruff"), "check", "core", "adapters", "bot", "bench", "tests")
    assert done.returncode == 0, done.stdout + done.stderr
