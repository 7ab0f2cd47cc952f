"""Per-worker cgroups: limits written, OOM kills counted, leftovers of dead executors removed."""
import subprocess

import pytest

from rlef.execution import cgroups

pytestmark = pytest.mark.skipif(not cgroups.available(), reason="cgroups not writable on this host")


def test_group_gets_memory_and_pids_limits_and_is_removed():
    group = cgroups.Cgroup("rlef-test-limits")
    try:
        group.set_memory(100 << 20)
        memory = group.dirs["memory"]
        limit_file = "memory.max" if group.v2 else "memory.limit_in_bytes"
        assert int((memory / limit_file).read_text()) == (100 << 20) + cgroups.OVERHEAD_BYTES
        assert (group.dirs["pids"] / "pids.max").read_text().strip() == str(cgroups.PIDS_MAX)
        assert group.oom_kills() == 0
    finally:
        group.remove()
    assert not any(d.exists() for d in group.dirs.values())


def test_groups_of_dead_executors_are_removed():
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = cgroups.Cgroup(f"rlef-{dead.pid}-1")
    assert cgroups.remove_stale() >= 1
    assert not any(d.exists() for d in stale.dirs.values())
