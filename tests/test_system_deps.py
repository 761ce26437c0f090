"""scripts/system-deps, the one place make (and so CI) installs what pip cannot: run in a PATH of stubs, as a
user without root or password-less sudo (it stops at once, naming the command) and as root (it calls apt-get)."""

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "system-deps"


def _stub(bin_dir: Path, name: str, body: str):
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _machine(tmp_path, uid: int, sudo: str | None = None, apt: bool = True) -> dict:
    """A PATH holding only sh's basics, python, a fake ``id`` and optionally ``sudo`` and ``apt-get`` stubs that
    log their calls; the browser path points at a file that does not exist yet."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("sh", "echo", "cat", "true", "mkdir", "chmod"):
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if real.startswith("/"):
            os.symlink(real, bin_dir / tool)
    os.symlink(sys.executable, bin_dir / "python3")
    log, browser = tmp_path / "calls.log", tmp_path / "usr-bin" / "chromium"
    _stub(bin_dir, "id", f'echo {uid}')
    if sudo is not None:
        _stub(bin_dir, "sudo", f'echo "sudo $*" >> {log}; {sudo}')
    if apt:
        _stub(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n'
                                  f'case "$*" in *install*chromium*) mkdir -p {browser.parent}; '
                                  f'printf "#!/bin/sh\\n" > {browser}; chmod +x {browser};; esac')
    return {"PATH": str(bin_dir), "FERNB_CHROMIUM": str(browser), "PYTHON": "python3", "HOME": str(tmp_path)}


def _run(env, *needs):
    t = time.perf_counter()
    p = subprocess.run(["sh", str(SCRIPT), *needs], env=env, capture_output=True, text=True, timeout=60)
    return p, time.perf_counter() - t


def test_a_user_without_root_is_stopped_at_once_with_the_command(tmp_path):
    env = _machine(tmp_path, uid=1000, sudo="exit 1")  # sudo asks for a password
    p, seconds = _run(env, "chromium")
    assert p.returncode == 2 and seconds < 5
    assert "sudo sh -c 'apt-get update && apt-get install -y chromium'" in p.stderr
    assert "apt-get" not in (tmp_path / "calls.log").read_text()  # only `sudo -n true` was tried
    (tmp_path / "bin" / "sudo").unlink()  # no sudo at all: su
    p, _ = _run(env, "chromium")
    assert p.returncode == 2 and "su -c 'apt-get update && apt-get install -y chromium'" in p.stderr


def test_root_installs_chromium_with_apt_and_a_second_call_does_nothing(tmp_path):
    env = _machine(tmp_path, uid=0)
    p, _ = _run(env, "chromium")
    assert p.returncode == 0, p.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls == ["apt-get update -q", "apt-get install -y -q chromium"]
    p, seconds = _run(env, "chromium")
    assert p.returncode == 0 and seconds < 5
    assert len((tmp_path / "calls.log").read_text().splitlines()) == 2  # present: no apt call


def test_passwordless_sudo_is_used(tmp_path):
    env = _machine(tmp_path, uid=1000, sudo='[ "$1" = -n ] && shift; "$@"')
    p, _ = _run(env, "chromium")
    assert p.returncode == 0, p.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert "sudo -n apt-get install -y -q chromium" in calls and "apt-get install -y -q chromium" in calls


def test_no_apt_and_unknown_needs_are_named(tmp_path):
    env = _machine(tmp_path, uid=0, apt=False)
    p, _ = _run(env, "chromium")
    assert p.returncode == 2 and "chromium" in p.stderr and "no apt-get" in p.stderr
    p, _ = _run(env, "firefox")
    assert p.returncode == 2 and "unknown need 'firefox'" in p.stderr


def test_venv_need_is_met_by_this_python(tmp_path):
    p, _ = _run(_machine(tmp_path, uid=1000), "venv")
    assert p.returncode == 0 and not (tmp_path / "calls.log").exists()


def test_make_test_checks_the_browser_before_installing_and_ci_only_calls_make():
    make = (ROOT / "Makefile").read_text()
    assert "\ntest: browser install\n" in make and "scripts/system-deps chromium" in make
    assert "scripts/system-deps venv" in make
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci and "apt-get" not in ci
    assert "--allow-root" in make  # make lab as root (containers, Colab-like machines)
