"""The only folder that imports Lightning: the trainer shell around rlef.iteration.

- module.py: RLEFModule, a thin LightningModule (one epoch = one iteration; the strategy's
  reduce and optimizer step handed to the plain iteration; validation-based selection,
  policy export, checkpoint hooks and RNG state);
- trainer.py: the Trainer factory (checkpointing, loggers, progress bar);
- strategies.py: DeepSpeed on CPU processes (trainer=deepspeed_z3_cpu);
- lockstep.py: forwards in step across ranks, for sampling from a ZeRO-3-sharded policy.
"""
