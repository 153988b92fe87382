#!/usr/bin/env bash
# Posts the plan comment on the pull request, or updates the one posted before,
# so a pull request carries one plan comment however often it is pushed to.
set -euo pipefail

body=${1:?usage: pgcred-comment.sh COMMENT.md}
pr=${PR_NUMBER:?PR_NUMBER is not set}
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
marker='<!-- pgcred-plan -->'

existing=$(gh api --paginate "repos/$repo/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "repos/$repo/issues/comments/$existing" -F "body=@$body" --silent
  echo "Updated the plan comment $existing on #$pr"
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --silent
  echo "Posted the plan comment on #$pr"
fi
