#!/bin/bash
# RLEF on Llama 3.1 8B (paper 3.1): conf/experiment/rlef_8b.yaml on one 8-GPU H100 node.
#   sbatch slurm/8b.sh [hydra overrides]      from the repo root; see slurm/README.md
#   DRY_RUN=1 bash slurm/8b.sh [overrides]    print the srun line and the composed config only
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

# sbatch runs a spooled copy of this file, so locate the repo by the submit directory.
cd "${RLEF_ROOT:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}"
[[ -f src/run.py ]] || { echo "run from the repo root (or set RLEF_ROOT)" >&2; exit 2; }

# Defaults stand in for SLURM's variables outside a job (DRY_RUN on a laptop or CI).
args=(
  experiment=rlef_8b
  run_name="${RUN_NAME:-rlef_8b}"                   # fixed: the same command resumes this run
  trainer.num_nodes="${SLURM_JOB_NUM_NODES:-1}"      # follows `sbatch --nodes=N`
  trainer.devices="${SLURM_NTASKS_PER_NODE:-8}"
  execution.workers="${SLURM_CPUS_PER_TASK:-12}"     # not os.cpu_count(): 8 ranks share a node
  "$@"
)
cmd=(.venv/bin/python src/run.py "${args[@]}")

if [[ "${DRY_RUN:-0}" == 1 ]]; then
  echo "srun --kill-on-bad-exit=1 $(printf '%q ' "${cmd[@]}")"
  exec "${cmd[@]}" --cfg job
fi
srun --kill-on-bad-exit=1 "${cmd[@]}"
