#!/usr/bin/env bash
# Applies the saved plans of the reviewed run, in the order they were planned.
# pgcred never runs SQL from a plan file: it plans again under its lock and
# applies only the same statements, so a stale plan stops here with exit 1.
set -euo pipefail

pgcred=${PGCRED:-npx --no-install pgcred}
dir=${PLAN_DIR:-pgcred-plan}

shopt -s nullglob
plans=("$dir"/*.plan.json)
if [ ${#plans[@]} -eq 0 ]; then
  echo "pgcred-apply: no saved plan in $dir: was the pull request planned?" >&2
  exit 1
fi
for plan in "${plans[@]}"; do
  echo "Applying $plan"
  $pgcred apply "$plan"
done
