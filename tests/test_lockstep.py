"""rlef.lightning.lockstep on two real gloo processes: ranks with uneven work run the same forwards."""
import socket

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from rlef.lightning.lockstep import Lockstep


class CollectiveModel(torch.nn.Module):
    """Like a ZeRO-3-sharded model: every forward is a collective (here one all_reduce)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, input_ids):
        self.calls += 1
        dist.all_reduce(torch.ones(1))
        return input_ids


def _worker(rank: int, port: int, real_forwards: list[int], results) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    model = CollectiveModel()
    lockstep = Lockstep(model, "cpu")
    for _ in range(real_forwards[rank]):
        lockstep.before_forward()
        model(input_ids=torch.zeros(1, 3, dtype=torch.long))
    lockstep.drain()
    results.put((rank, model.calls, lockstep.dummy_forwards))
    dist.destroy_process_group()


def test_a_rank_that_finishes_first_runs_dummy_forwards_until_the_others_are_done():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = mp.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(rank, port, [3, 7], results)) for rank in (0, 1)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        if p.is_alive():
            p.kill()
    got = sorted(results.get(timeout=5) for _ in processes)
    assert got == [(0, 7, 4), (1, 7, 0)]  # rank 0: 3 real + 4 dummy forwards, paired with rank 1's 7
