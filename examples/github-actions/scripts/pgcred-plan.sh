#!/usr/bin/env bash
# Plans the YAML file and every synthesized stack, saves each plan for the merge
# job (pgcred apply refuses it once anything it was computed from moves) and
# writes one pull-request comment. Exits 1 when a plan fails: apply would refuse it.
set -uo pipefail

pgcred=${PGCRED:-npx --no-install pgcred}
config=${PGCRED_CONFIG:-pgcred.yaml}
manifests=${PGCRED_MANIFESTS:-}
out=${PLAN_DIR:-pgcred-plan}
full_plan=${FULL_PLAN:-the pgcred-plan artifact of this workflow run}
marker='<!-- pgcred-plan -->'

mkdir -p "$out"
rm -f "$out"/*.plan.json "$out"/*.md

sources=()
[ -f "$config" ] && sources+=("config:$config")
for manifest in $manifests; do sources+=("manifest:$manifest"); done
if [ ${#sources[@]} -eq 0 ]; then
  echo "pgcred-plan: neither $config nor any of PGCRED_MANIFESTS exists" >&2
  exit 1
fi
# GitHub's 65,536 characters, shared by the plans, with room for the headings.
limit=$(( (65536 - 1000) / ${#sources[@]} ))

status=0
{
  echo "$marker"
  echo "Plans for ${GITHUB_SHA:-this commit}. Merging applies exactly these plans, or refuses if anything moved."
} > "$out/comment.md"
n=0
for source in "${sources[@]}"; do
  kind=${source%%:*}
  path=${source#*:}
  n=$((n + 1))
  name="$n-$(basename "$path" | tr -c 'A-Za-z0-9.\n-' '_')"
  if [ "$kind" = config ]; then
    args=(-f "$path" plan)
  else
    args=(plan --manifest "$path")
  fi
  args+=(--out "$out/$name.plan.json" --format markdown --full-plan "$full_plan" --comment-limit "$limit")
  if $pgcred "${args[@]}" > "$out/$name.md" 2> "$out/$name.log"; then
    rc=0
  else
    rc=$?
    status=1
  fi
  cat "$out/$name.log" >&2
  {
    echo
    echo "**Declared in \`$path\`**"
    echo
    if [ "$rc" -ne 0 ]; then
      echo "> **pgcred plan failed (exit $rc):** $(tail -n 1 "$out/$name.log" | sed 's/^ *▸ *//')"
    fi
    cat "$out/$name.md"
  } >> "$out/comment.md"
done
exit "$status"
