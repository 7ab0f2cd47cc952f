# The body shared by slurm/8b.sh and slurm/70b.sh (sourced, after they set EXPERIMENT and
# DEFAULT_NODES): find the repo, build the command from the allocation, run or dry-run it.
set -euo pipefail

# sbatch runs a spooled copy of this file, so locate the repo by the submit directory.
cd "${RLEF_ROOT:-${SLURM_SUBMIT_DIR:-$(dirname "$0")/..}}"
[[ -f src/run.py ]] || { echo "run from the repo root (or set RLEF_ROOT)" >&2; exit 2; }

# The run name, and so the run a requeue resumes, follows RLEF_EXPERIMENT: an experiment= override would
# train another experiment into this one's run directory.
for arg in "$@"; do
  if [[ "$arg" == experiment=* || "$arg" == +experiment=* ]]; then
    echo "set RLEF_EXPERIMENT=${arg#*experiment=} instead of passing $arg" >&2; exit 2
  fi
done

# Defaults stand in for SLURM's variables outside a job (DRY_RUN on a laptop or CI).
args=(
  experiment="$EXPERIMENT"
  run_name="${RUN_NAME:-$EXPERIMENT}"               # fixed: the same command resumes this run
  trainer.num_nodes="${SLURM_JOB_NUM_NODES:-$DEFAULT_NODES}"  # follows `sbatch --nodes=N`
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
