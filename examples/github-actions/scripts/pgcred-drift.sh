#!/usr/bin/env bash
# Checks every declaration for drift and writes the reports to the job summary.
# pgcred drift exits 0 in sync, 2 drifted, 1 on error; this exits the worst of them,
# so a drifted database fails the scheduled job.
set -uo pipefail

pgcred=${PGCRED:-npx --no-install pgcred}
config=${PGCRED_CONFIG:-pgcred.yaml}
manifests=${PGCRED_MANIFESTS:-}
summary=${GITHUB_STEP_SUMMARY:-/dev/stdout}

worst=0
check() {
  local what=$1
  shift
  local report rc
  report=$(mktemp)
  $pgcred "$@" --format markdown > "$report"
  rc=$?
  {
    echo "**\`$what\`: $(case $rc in 0) echo in sync ;; 2) echo drifted ;; *) echo "error (exit $rc)" ;; esac)**"
    echo
    cat "$report"
    echo
  } >> "$summary"
  rm -f "$report"
  case $rc in
    0) ;;
    2) echo "::error title=pgcred drift::$what has drifted from its declaration" ;;
    *) echo "::error title=pgcred drift::checking $what failed (exit $rc)" ;;
  esac
  # An error outranks drift: drift is known, an error is not.
  if [ "$rc" -eq 1 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ]; }; then worst=1
  elif [ "$rc" -eq 2 ] && [ "$worst" -eq 0 ]; then worst=2
  fi
}

[ -f "$config" ] && check "$config" -f "$config" drift
for manifest in $manifests; do check "$manifest" drift --manifest "$manifest"; done
exit "$worst"
