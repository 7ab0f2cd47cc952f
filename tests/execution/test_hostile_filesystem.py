"""Hostile programs against the host's files, environment and network. Each test checks one
property from both sides: the program fails inside the sandbox, and the host, inspected from
outside, is unchanged (its sentinel files intact, its secrets never in the captured output)."""
import hashlib
import json
import logging
import os
import socket
from pathlib import Path

import pytest
from hostile_support import FAST, ROOMY, judge

import rlef
from rlef.data.problem import Test
from rlef.execution import sandbox
from rlef.execution.executor import Executor
from rlef.execution.types import Limits, Verdict

pytestmark = pytest.mark.sandbox

SECRET = "host-secret-3f9c1a7e"
REPO = Path(rlef.__file__).resolve().parents[2]  # src/rlef/__init__.py -> the checkout


@pytest.fixture(scope="module")
def lone(executor):
    """One worker, so "the next program" is guaranteed to run in the zygote the attack hit.
    (Depends on `executor` only for its bubblewrap-or-skip check.)"""
    with Executor(workers=1, isolation="bwrap") as ex:
        yield ex


@pytest.fixture
def sentinel(tmp_path) -> Path:
    """A host file the program must neither read nor change."""
    path = tmp_path / "sentinel.txt"
    path.write_text(SECRET)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leaked(result) -> bool:
    return SECRET in result.observed or SECRET in result.stderr_tail


# --- reading the host ------------------------------------------------------------------------

def test_program_cannot_read_a_host_file_outside_the_python_installation(executor, sentinel):
    result = judge(executor, f"print(open({str(sentinel)!r}).read())\n", expected=SECRET)
    assert result.verdict is Verdict.EXCEPTION and not leaked(result)


def test_program_cannot_read_the_repository(executor):
    result = judge(executor, f"print(open({str(REPO / 'pyproject.toml')!r}).read())\n")
    assert result.verdict is Verdict.EXCEPTION and "[project]" not in result.observed


def _python_prefix_parts(directory: Path) -> set[str]:
    """The one entry of `directory` the sandbox must show: the path down to Python's prefix."""
    prefix = Path(sandbox.interpreter()).parent.parent
    try:
        return {prefix.relative_to(directory).parts[0]}
    except (ValueError, IndexError):
        return set()


@pytest.mark.parametrize("directory", ["/work", "/home", str(Path.home()), str(REPO)],
                         ids=["work", "home", "user-home", "repo"])
def test_program_cannot_list_host_directories(executor, directory):
    program = ("import json, os\n"
               f"try:\n    print(json.dumps(os.listdir({directory!r})))\n"
               "except OSError:\n    print('[]')\n")
    result = judge(executor, program)
    try:
        on_host = set(os.listdir(directory))
    except OSError:
        on_host = set()
    # Compared with the host's own listing: a sandbox-private directory of the same name (a
    # home under /tmp shows the sandbox's /tmp) is not a leak.
    leaked_entries = set(json.loads(result.observed)) & on_host
    assert leaked_entries <= _python_prefix_parts(Path(directory)), leaked_entries


# --- writing the host ------------------------------------------------------------------------

def test_writing_to_etc_fails_and_creates_nothing_on_the_host(executor):
    target = Path(f"/etc/rlef-hostile-{os.getpid()}")
    try:
        result = judge(executor, f"open({str(target)!r}, 'w').write('pwned')\n")
        assert result.verdict is Verdict.EXCEPTION and not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_rmtree_of_root_fails_inside_and_leaves_host_files_intact(lone, sentinel):
    # Guard: if the host's files were visible the sandbox is broken; refuse rather than delete.
    program = (f"import os, shutil, sys\n"
               f"if os.path.exists({str(sentinel)!r}) or os.path.exists({str(REPO)!r}):\n"
               "    sys.exit('sandbox broken: host files visible, refusing to delete them')\n"
               "shutil.rmtree('/')\n")
    before = digest(sentinel)
    result = judge(lone, program)
    assert "refusing" not in result.stderr_tail
    assert result.verdict is Verdict.EXCEPTION and digest(sentinel) == before


def test_rmtree_of_root_leaves_the_harness_judging(lone):
    # ignore_errors: delete everything deletable (its own scratch, /dev/shm), until killed.
    judge(lone, "import shutil\nshutil.rmtree('/', ignore_errors=True)\n", limits=FAST)
    assert lone.run("print(input())", [Test("5\n", "5\n")], FAST).passed


def test_symlink_to_a_host_file_can_neither_read_nor_write_it(executor, sentinel):
    program = (f"import os\nos.symlink({str(sentinel)!r}, 'x')\n"
               "try:\n    print(open('x').read())\nexcept OSError:\n    pass\n"
               "open('x', 'w').write('pwned')\n")
    before = digest(sentinel)
    result = judge(executor, program)
    assert result.verdict is Verdict.EXCEPTION
    assert digest(sentinel) == before and not leaked(result)


def test_symlink_to_etc_passwd_cannot_change_it(executor):
    passwd = Path("/etc/passwd")
    before = digest(passwd)
    program = "import os\nos.symlink('/etc/passwd', 'x')\nopen('x', 'a').write('pwned::0:0::/:/bin/sh\\n')\n"
    result = judge(executor, program)
    assert result.verdict is Verdict.EXCEPTION and digest(passwd) == before


# --- scratch space -----------------------------------------------------------------------------

def test_filling_tmp_is_contained(lone):
    program = ("n = 0\n"
               "while True:\n"
               "    with open(f'/tmp/fill{n}', 'wb') as f:\n"
               "        for _ in range(8):\n"
               "            f.write(b'x' * (1 << 20))\n"
               "    n += 1\n")
    result = judge(lone, program, limits=ROOMY)
    assert result.verdict is not Verdict.INFRA_ERROR, result.detail


def test_a_full_tmp_is_emptied_for_the_next_program(lone):
    fill = ("try:\n    n = 0\n    while True:\n"
            "        with open(f'/tmp/fill{n}', 'wb') as f:\n            f.write(b'x' * (8 << 20))\n"
            "        n += 1\nexcept OSError:\n    print(n)\n")
    judge(lone, fill, limits=ROOMY)
    program = ("import os\nfor i in range(4):\n    open(f'/tmp/work/mine{i}', 'wb').write(b'y' * (8 << 20))\n"
               "print(sorted(os.listdir('/tmp')), len(os.listdir('/tmp/work')), os.listdir('/dev/shm'))\n")
    result = judge(lone, program, expected="['work'] 4 []\n", limits=ROOMY)
    assert result.verdict is Verdict.PASSED, (result.observed, result.stderr_tail)


def test_files_do_not_persist_between_executions(lone):
    plant = ("import os\nfor path in ('/tmp/planted', '/tmp/work/planted', '/dev/shm/planted'):\n"
             "    open(path, 'w').write('x')\nos.chmod('/tmp/work', 0)\n")
    judge(lone, plant)
    program = ("import os\n"
               "print(sorted(os.listdir('/tmp')), os.listdir('/tmp/work'), os.listdir('/dev/shm'))\n")
    assert judge(lone, program, expected="['work'] [] []\n").verdict is Verdict.PASSED


def test_files_planted_outside_scratch_do_not_persist_between_executions(lone):
    # Only /tmp and /dev/shm are emptied between runs: anything else a program can write (the
    # sandbox's own root, /etc, /opt: writable when bwrap runs rootless) would carry state, or
    # answers, from one execution to the next.
    places = ["/", "/etc", "/opt", "/opt/rlef", "/root", "/home", "/var", "/usr", "/proc", "/dev"]
    plant = (f"import os\nfor d in {places!r}:\n"
             "    try:\n        os.makedirs(d, exist_ok=True)\n"
             "        open(os.path.join(d, 'rlef-planted'), 'w').write('x')\n"
             "    except OSError:\n        pass\n")
    judge(lone, plant)
    check = f"import os\nprint([d for d in {places!r} if os.path.exists(os.path.join(d, 'rlef-planted'))])\n"
    result = judge(lone, check, expected="[]\n")
    assert result.verdict is Verdict.PASSED, result.observed


def test_a_deeply_nested_directory_left_behind_does_not_crash_the_worker(lone, caplog):
    # The scratch space is emptied before the next run: that must not recurse once per level.
    nest = "import os\nfor _ in range(1500):\n    os.mkdir('d')\n    os.chdir('d')\nprint(1)\n"
    judge(lone, nest, expected="1\n")
    with caplog.at_level(logging.WARNING, logger="rlef.execution"):
        assert lone.run("print(input())", [Test("5\n", "5\n")], FAST).passed
    assert not [r.getMessage() for r in caplog.records if "worker failed" in r.getMessage()]


def test_opening_ten_thousand_files_is_contained(lone):
    program = "handles = [open(f'f{i}', 'w') for i in range(10_000)]\nprint(len(handles))\n"
    result = judge(lone, program)
    assert result.verdict is not Verdict.INFRA_ERROR, result.detail


def test_creating_ten_thousand_files_leaves_the_harness_judging(lone):
    judge(lone, "for i in range(10_000):\n    open(f'f{i}', 'w').close()\nprint(1)\n", expected="1\n")
    assert lone.run("print(input())", [Test("5\n", "5\n")], FAST).passed


# --- environment --------------------------------------------------------------------------------

CANARY_VAR, CANARY = "RLEF_HOSTILE_CANARY", "canary-value-81c2d4"


@pytest.fixture
def canary_executor(executor, monkeypatch):
    """A fresh executor started while the caller's environment holds a canary variable."""
    monkeypatch.setenv(CANARY_VAR, CANARY)
    with Executor(workers=1, isolation="bwrap") as ex:
        yield ex


def test_program_environment_is_empty(canary_executor):
    result = judge(canary_executor, "import os\nprint(dict(os.environ))\n", expected="{}\n")
    assert result.verdict is Verdict.PASSED, result.observed


def test_no_process_environment_in_the_sandbox_reveals_the_callers_variables(canary_executor):
    program = ("import os\n"
               "paths = ['/proc/self/environ', '/proc/1/environ']\n"
               "paths += [f'/proc/{p}/environ' for p in os.listdir('/proc') if p.isdigit()]\n"
               "for path in paths:\n"
               "    try:\n        print(path, open(path, 'rb').read())\n"
               "    except OSError as e:\n        print(path, e)\n")
    result = judge(canary_executor, program)
    assert CANARY not in result.observed + result.stderr_tail
    assert CANARY_VAR not in result.observed + result.stderr_tail


# --- network ---------------------------------------------------------------------------------------

def test_program_cannot_reach_a_listener_on_the_host_loopback(executor):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(0.5)
        port = server.getsockname()[1]
        program = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)\nprint('in')\n"
        result = judge(executor, program)
        with pytest.raises(socket.timeout):
            server.accept()
    assert result.verdict is Verdict.EXCEPTION and result.wall_time_s < 1.0


def test_connecting_to_a_public_address_fails_fast(executor):
    program = "import socket\nsocket.create_connection(('1.1.1.1', 443), timeout=5)\nprint('out')\n"
    result = judge(executor, program)
    assert result.verdict is Verdict.EXCEPTION and result.wall_time_s < 1.0


def test_dns_lookup_fails_fast(executor):
    result = judge(executor, "import socket\nprint(socket.getaddrinfo('pypi.org', 443))\n")
    assert result.verdict is Verdict.EXCEPTION and result.wall_time_s < 1.0


def test_import_pip_fails(executor):
    assert judge(executor, "import pip\n").verdict is Verdict.EXCEPTION


def test_pip_install_in_a_subprocess_fails_fast(executor):
    # pip alone needs ~1 s of CPU to start here; "fast" means no waiting on network timeouts
    # (pip's are 15 s per attempt, retried 5 times).
    program = ("import subprocess, sys\n"
               "subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-cache-dir', 'requests'],"
               " check=True, timeout=60)\n")
    result = judge(executor, program, limits=Limits(time_s=10.0))
    assert result.verdict is Verdict.EXCEPTION and result.wall_time_s < 6.0, result.detail
