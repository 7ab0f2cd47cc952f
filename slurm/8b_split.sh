#!/bin/bash
# DESIGN ONLY (slurm/README.md, "Split layout"): RLEF 8B with rollouts on a vLLM inference node of its
# own beside the 8-GPU training node, weights broadcast after each update, rollouts up to max_lag
# updates behind. Not built: only the dry run works.
#   DRY_RUN=1 bash slurm/8b_split.sh [hydra overrides]   print both job steps and the trainer's config
#SBATCH --job-name=rlef_8b_split
#SBATCH --nodes=2              # node 0 trains (ZeRO-3, 8 ranks), node 1 samples (8 vLLM engines, TP=1)
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=12
#SBATCH --mem=0
#SBATCH --time=24:00:00
#SBATCH --output=slurm-%x-%j.out
set -euo pipefail
cd "${RLEF_ROOT:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}"
[[ -f src/run.py ]] || { echo "run from the repo root (or set RLEF_ROOT)" >&2; exit 2; }
if [[ "${DRY_RUN:-0}" != 1 ]]; then
  echo "the split layout is designed (slurm/README.md) but not built: use slurm/8b.sh" >&2; exit 2
fi
args=(experiment=rlef_8b_split run_name="${RUN_NAME:-rlef_8b_split}" trainer.num_nodes=1 trainer.devices=8
      execution.workers="${SLURM_CPUS_PER_TASK:-12}" "$@")
cmd=(.venv/bin/python src/run.py "${args[@]}")
echo "srun --nodes=1 --relative=0 --ntasks-per-node=8 $(printf '%q ' "${cmd[@]}")"
echo "# inference step (not built): srun --nodes=1 --relative=1 --ntasks-per-node=8, one vLLM engine per GPU"
exec "${cmd[@]}" --cfg job
