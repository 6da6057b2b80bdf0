#!/usr/bin/env bash
# Slurm example: the teachers of a CPSD run as a job array (one teacher per task, each on
# its own GPU), then the rest of the pipeline (baseline, students, table) once they are done.
#
#   sbatch --array=0-9 scripts/slurm_cpsd.sh teachers configs/paper/cpsd_r101-linear_cgp5-dgp5_1xb24_coco-448.toml
#   sbatch --dependency=afterok:<array job id> scripts/slurm_cpsd.sh rest configs/paper/...toml
#
# With k = 5 and methods baseline + cpsd the array has 2k = 10 tasks: task t trains the
# t-th teacher of the run's branches in sorted order (cgp_0..cgp_4, dgp_0..dgp_4; in general
# the array has the sum of the k of the branches `cpsd config check` lists); every task
# writes into the same run directory (run.output/run.name, on a shared file system), and
# `cpsd run` finds the finished teachers and does not train them again. The partitions are
# deterministic, so every task computes the same ones.
#SBATCH --job-name=cpsd
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=8
#SBATCH --time=24:00:00
set -euo pipefail
stage=${1:?teachers or rest}
config=${2:?run config}
cpsd=${CPSD:-cpsd}
case "$stage" in
  teachers) exec "$cpsd" train --config "$config" --part auto --set runtime.device=cuda ;;
  rest)     exec "$cpsd" run "$config" --set runtime.device=cuda ;;
  *) echo "slurm_cpsd.sh: stage must be teachers or rest" >&2; exit 2 ;;
esac
