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


def _swap_bound(group: cgroups.Cgroup) -> dict[str, str]:
    memory = group.dirs["memory"]
    names = ["memory.swap.max"] if group.v2 else ["memory.swappiness", "memory.memsw.limit_in_bytes"]
    return {n: (memory / n).read_text().strip() for n in names if (memory / n).exists()}


def test_the_group_cannot_swap_after_its_limit_is_lowered_or_raised():
    # With swap on the host, a group over memory.max is swapped out instead of OOM-killed.
    group = cgroups.Cgroup("rlef-test-swap")
    try:
        for program_bytes in (100 << 20, 2 << 30, 64 << 20):  # v1 refuses memsw < memory: order matters
            group.set_memory(program_bytes)
            limit = str(program_bytes + cgroups.OVERHEAD_BYTES)
            expected = {"memory.swap.max": "0"} if group.v2 else {
                "memory.swappiness": "0", "memory.memsw.limit_in_bytes": limit}
            assert _swap_bound(group) == {k: v for k, v in expected.items()
                                          if (group.dirs["memory"] / k).exists()}
            assert _swap_bound(group), "no swap control file found: swap is unbounded"
    finally:
        group.remove()
