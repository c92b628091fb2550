"""Set-up and everyday commands, needing nothing but Python 3.11 and pip.

    python3 dev.py build   # create .venv with the locked versions, then build outputs/
    python3 dev.py test    # the same environment (+ Debian's chromium, strace), then the tests
    python3 dev.py ui      # the Dagster UI on the project's instance (--port, default 3000)
    python3 dev.py watch   # the build service: build, then rebuild whenever raw/ changes
    python3 dev.py mutate  # mutation testing, module by module (docs/testing.md)
    python3 dev.py screenshots  # the README's images, made from outputs/ (docs/screenshots.py)

The environment is (re)installed from constraints.txt whenever it or pyproject.toml
changes, so every rebuild uses the same versions.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / ".installed-from"
STOP_GRACE_SECONDS = 30  # how long `dagster dev` may take to stop before its group is killed


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


SYSTEM_TOOLS = {"/usr/bin/chromium": ["chromium", "chromium-driver"], "/usr/bin/strace": ["strace"]}


def ensure_system_tools(tools: tuple[str, ...] = ("/usr/bin/chromium",)) -> None:
    """The browser tests drive Debian's Chromium, and the written-once test traces a build
    with strace: install the Debian packages of those missing (never download a browser)."""
    packages = [p for tool in tools if not Path(tool).exists() for p in SYSTEM_TOOLS[tool]]
    if not packages:
        return
    if os.geteuid() != 0:
        sys.exit(f"The tests need Debian's {', '.join(packages)}: "
                 f"sudo apt-get install {' '.join(packages)}")  # fmt: skip
    print(f"Installing Debian's {', '.join(packages)} for the tests ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def run(*args: str) -> int:
    return subprocess.run([str(PYTHON), *args], cwd=ROOT).returncode


def supervise(command: list[str]) -> int:
    """Run `command` in its own process group; SIGINT, SIGTERM or SIGHUP interrupts it (its
    Ctrl-C path), and whatever of its group is left when it ends, or after STOP_GRACE_SECONDS,
    is killed: nothing it started outlives it."""
    stopped: list[tuple[int, float]] = []  # (signal, when)
    child: subprocess.Popen | None = None

    def stop(signum: int, _frame: object) -> None:
        stopped.append((signum, time.monotonic()))
        if child is not None and child.poll() is None:
            os.kill(child.pid, signal.SIGINT)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)  # the child starts with the default handlers, not ignored
    child = subprocess.Popen(command, cwd=ROOT, process_group=0)
    if stopped:  # a signal came before the child existed
        os.kill(child.pid, signal.SIGINT)
    while child.poll() is None and not (
        stopped and time.monotonic() - stopped[0][1] > STOP_GRACE_SECONDS
    ):
        time.sleep(0.2)
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the group is gone already
    child.wait()
    return 128 + stopped[0][0] if stopped else child.returncode


def ui(args: list[str]) -> int:
    """`dagster dev` on the project's instance, by the venv's Python, on 127.0.0.1:<port>."""
    parser = argparse.ArgumentParser(prog="python3 dev.py ui")
    parser.add_argument("--port", type=int, default=3000, help="the port on 127.0.0.1")
    port = parser.parse_args(args).port
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    dev = ["-m", "dagster", "dev", "-m", "pipeline.definitions", "-h", "127.0.0.1", "-p"]
    return supervise([str(PYTHON), *dev, str(port)])


def parallel(extra: list[str]) -> list[str]:
    """`-n 2` (pytest-xdist) unless the arguments choose (`-n N`, `-p no:xdist`): with two
    workers the whole suite is faster on a 2-core machine (figures in docs/testing.md)."""
    chosen = "no:xdist" in extra or any(a.startswith(("-n", "--numprocesses")) for a in extra)
    return [] if chosen else ["-n", "2"]


def ordering(extra: list[str]) -> list[str]:
    """A shuffled order whose seed is printed first, even under -q (which hides
    pytest-randomly's header), so that a failure that depends on the order can be repeated
    with `python3 dev.py test --randomly-seed=N`; nothing added if the arguments choose."""
    chosen = "no:randomly" in extra or any(a.startswith("--randomly-seed") for a in extra)
    if chosen:
        return []
    seed = int.from_bytes(os.urandom(4), "big") % 2**31
    again = f"python3 dev.py test --randomly-seed={seed}"
    print(f"Test order: --randomly-seed={seed} (repeat: {again})", flush=True)
    return [f"--randomly-seed={seed}"]


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else "build"
    extra = sys.argv[2:]
    os.environ.setdefault("DAGSTER_HOME", str(ROOT / ".dagster_home"))
    ensure_environment()
    if command == "build":
        return run("-m", "pipeline", "build", *extra)
    if command == "test":
        ensure_system_tools(tuple(SYSTEM_TOOLS))
        code = run("-m", "pytest", *parallel(extra), *ordering(extra), *extra)
        if code == 5:
            print("pytest collected no tests: that is a failure.", file=sys.stderr)
            return 1
        return code
    if command == "ui":
        return ui(extra)
    if command == "watch":
        return run("-m", "pipeline", "watch", *extra)
    if command == "mutate":
        return run("benchmarks/mutation.py", *extra)
    if command == "screenshots":
        ensure_system_tools()
        return run("docs/screenshots.py", *extra)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
