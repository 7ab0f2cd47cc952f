"""Strategies Lightning does not ship."""
from __future__ import annotations

import torch
from lightning.fabric.utilities.seed import reset_seed
from lightning.pytorch.strategies import DDPStrategy, DeepSpeedStrategy


class CPUDeepSpeedStrategy(DeepSpeedStrategy):
    """Lightning's DeepSpeed strategy on CPU processes (gloo). Lightning refuses any accelerator
    but CUDA; DeepSpeed itself runs ZeRO on CPU. trainer=deepspeed_z3_cpu runs the paper-scale
    code path (sharded init, ZeRO-3 accumulation, sharded checkpoints, export) without a GPU."""

    def setup_environment(self) -> None:
        DDPStrategy.setup_environment(self)  # DeepSpeedStrategy's only addition is the CUDA check

    def setup_distributed(self) -> None:
        reset_seed()  # as DeepSpeedStrategy, minus its check of CUDA device indices
        self.set_world_ranks()
        self._init_deepspeed_distributed()

    @property
    def root_device(self) -> torch.device:
        return torch.device("cpu", 0)  # DeepSpeed's engine reads the device index
