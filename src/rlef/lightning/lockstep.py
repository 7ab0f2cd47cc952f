"""Forward passes in lockstep across ranks, for sampling from a ZeRO-3-sharded policy.

ZeRO-3 shards every weight over the ranks, so each forward pass is a collective: every module
all-gathers its weights from all ranks. Ranks sample different episodes, whose replies end
after different numbers of tokens, so left alone they would run different numbers of forwards
and the collectives would pair up wrongly or hang. Hugging Face's `generate(synced_gpus=True)`
solves the same problem the same way: before each forward, the ranks agree whether any of them
still has work; a rank that has finished runs a dummy forward for as long as another one has not.
The collectives do not depend on the input's shape, only on the modules run, so a one-token
dummy forward pairs with any real forward of the same model.
"""
from __future__ import annotations

import torch
import torch.distributed as dist


class Lockstep:
    def __init__(self, model: torch.nn.Module, device: torch.device | str):
        self.model, self.device = model, torch.device(device)
        self.dummy_forwards = 0  # for tests and logs

    def _any_rank(self, active: bool) -> bool:
        flag = torch.tensor([1.0 if active else 0.0], device=self.device)
        dist.all_reduce(flag)
        return flag.item() > 0

    def before_forward(self) -> None:
        """Call right before each real forward: one vote per forward on every rank."""
        self._any_rank(True)

    @torch.no_grad()
    def drain(self) -> None:
        """Call when this rank has no forward left: dummy forwards until every rank is done."""
        while self._any_rank(False):
            self.model(input_ids=torch.zeros(1, 1, dtype=torch.long, device=self.device))
            self.dummy_forwards += 1
