"""Set-up and everyday commands, needing nothing but Python 3.11 and pip.

    python3 dev.py build   # create .venv with the locked versions, then build outputs/
    python3 dev.py test    # the same environment (+ Debian's chromium), then all the tests
    python3 dev.py ui      # the Dagster UI on the project's instance
    python3 dev.py watch   # the build service: build, then rebuild whenever raw/ changes

The environment is (re)installed from constraints.txt whenever it or pyproject.toml
changes, so every rebuild uses the same versions.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"


def _lock_digest() -> str:
    data = b"".join((ROOT / f).read_bytes() for f in ("pyproject.toml", "constraints.txt"))
    return hashlib.sha256(data).hexdigest()


def ensure_environment() -> None:
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    if STAMP.exists() and STAMP.read_text() == _lock_digest():
        return
    print("Installing the locked versions (constraints.txt) ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", "constraints.txt", "-e", ".[test]"], cwd=ROOT, check=True)
    STAMP.write_text(_lock_digest())


def ensure_browser() -> None:
    """The browser tests drive Debian's Chromium; install it (never download a browser)."""
    if Path("/usr/bin/chromium").exists():
        return
    if os.geteuid() != 0:
        sys.exit("The browser tests need Debian's chromium: sudo apt-get install chromium")
    print("Installing Debian's chromium for the browser tests ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"], check=True, env=env
    )


def run(*args: str) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT).returncode


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "build"
    extra = sys.argv[2:]
    os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    ensure_environment()
    if command == "build":
        return run("-m", "pipeline", "build", *extra)
    if command == "test":
        ensure_browser()
        code = run("-m", "pytest", *extra)
        if code == 5:
            print("pytest collected no tests: that is a failure.", file=sys.stderr)
            return 1
        return code
    if command == "ui":
        return run("-m", "pipeline", "ui")
    if command == "watch":
        return run("-m", "pipeline", "watch", *extra)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
