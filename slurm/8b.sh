#!/bin/bash
# RLEF on Llama 3.1 8B (paper 3.1): conf/experiment/rlef_8b.yaml on one 8-GPU H100 node.
#   sbatch slurm/8b.sh [hydra overrides]      from the repo root; see slurm/README.md
#   DRY_RUN=1 bash slurm/8b.sh [overrides]    print the srun line and the composed config only
#   RLEF_EXPERIMENT=rlef_8b_single_turn sbatch slurm/8b.sh   another 8B arm: conf/experiment/<EXPERIMENT>.yaml
#SBATCH --job-name=rlef_8b
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=8    # one process per GPU: what Lightning's SLURM environment expects
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=12     # each rank's sandbox workers execute the test programs here
#SBATCH --mem=0                # all of the node's memory
#SBATCH --time=24:00:00        # per allocation; requeues continue the same run
#SBATCH --requeue              # node failure / preemption / Lightning's own requeue restart the job
#SBATCH --signal=SIGUSR1@120   # 120 s before the limit: Lightning saves hpc_ckpt_N.ckpt and requeues
#SBATCH --open-mode=append     # a requeued job keeps appending to the same log
#SBATCH --output=slurm-%x-%j.out
set -euo pipefail
# sbatch runs a spooled copy of this file: the shared body is found via the submit directory.
EXPERIMENT=${RLEF_EXPERIMENT:-rlef_8b} DEFAULT_NODES=1
source "${RLEF_ROOT:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}/slurm/train_common.sh"
