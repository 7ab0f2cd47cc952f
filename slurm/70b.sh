#!/bin/bash
# RLEF on Llama 3.1 70B (paper 3.1): conf/experiment/rlef_70b.yaml on eight 8-GPU H100 nodes.
#   sbatch slurm/70b.sh [hydra overrides]      from the repo root; see slurm/README.md
#   DRY_RUN=1 bash slurm/70b.sh [overrides]    print the srun line and the composed config only
#SBATCH --job-name=rlef_70b
#SBATCH --nodes=8
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
EXPERIMENT=${RLEF_EXPERIMENT:-rlef_70b} DEFAULT_NODES=8
source "${RLEF_ROOT:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}/slurm/train_common.sh"
