#!/usr/bin/env bash
# Prints the CHANGELOG.md section for a release from the commits since the previous release tag
# (all commits for the first release), grouped by what their subject says they touch.
#
#   scripts/release-changelog.sh VERSION [PREVIOUS_TAG]     (run inside the repository)
#
# Groups, in this order (the first rule that matches a subject wins; docs/releasing.md):
#   Fixes          "fix:"/"fix(x):", or a subject starting with "fix"/"fixes"/"fixed"
#   Documentation  "docs:", "docs/…", "README"
#   Tests          "test:", "tests …", "test/…", "e2e"
#   Benchmarks     "bench:", "bench/…", "perf:"
#   Build and CI   "ci:", "build:", "chore:", "scripts/…", "package", "deps"
#   Tidying        "tidy:", "refactor:", "style:"
#   Changes        everything else (features and behaviour changes)
# "release X.Y.Z" commits are left out. Each entry is the subject (cut at 200 characters) and the
# short commit id.
set -euo pipefail
VERSION=${1:?usage: release-changelog.sh VERSION [PREVIOUS_TAG]}
PREV=${2:-}
RANGE=HEAD
[ -n "$PREV" ] && RANGE="$PREV..HEAD"

GROUPS_ORDER=("Changes" "Fixes" "Documentation" "Tests" "Benchmarks" "Build and CI" "Tidying")

group_of() {
  local s=${1,,}
  case "$s" in
    release\ [0-9]*) echo skip ;;
    fix:* | fix\(*) echo Fixes ;;
    fix\ * | fixes\ * | fixed\ *) echo Fixes ;;
    docs:* | docs\(*) echo Documentation ;;
    docs/* | readme*) echo Documentation ;;
    test:* | test\(*) echo Tests ;;
    tests\ * | tests:* | test/* | e2e*) echo Tests ;;
    bench:* | bench\(*) echo Benchmarks ;;
    bench/* | perf:* | perf\(*) echo Benchmarks ;;
    ci:* | ci\(* | build:* | build\(* | chore:* | chore\(*) echo "Build and CI" ;;
    scripts/* | package:* | package.json* | deps:* | deps\ *) echo "Build and CI" ;;
    tidy:* | tidy\(* | refactor:* | refactor\(* | style:* | style\(*) echo Tidying ;;
    *) echo Changes ;;
  esac
}

declare -A ENTRIES=()
COUNT=0
while IFS=$'\t' read -r id subject; do
  [ -n "$id" ] || continue
  g=$(group_of "$subject")
  [ "$g" = skip ] && continue
  if [ "${#subject}" -gt 200 ]; then subject="${subject:0:199}…"; fi
  ENTRIES[$g]+="- ${subject} (${id})"$'\n'
  COUNT=$((COUNT + 1))
done < <(git log --no-merges --format='%h%x09%s' "$RANGE")

printf '## %s - %s\n\n' "$VERSION" "$(date -u +%Y-%m-%d)"
if [ -n "$PREV" ]; then
  printf '%d commit(s) since %s.\n\n' "$COUNT" "$PREV"
else
  printf 'First release: %d commit(s).\n\n' "$COUNT"
fi
for g in "${GROUPS_ORDER[@]}"; do
  [ -n "${ENTRIES[$g]:-}" ] || continue
  printf '### %s\n\n%s\n' "$g" "${ENTRIES[$g]}"
done
