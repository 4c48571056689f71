#!/usr/bin/env bash
# Runs a command beside a CPU hog: one busy loop per core at normal priority,
# stopped by PID when the command ends (or this script is interrupted).
# The suite's load mode (POLYVISOR_TEST_LOAD=1 bash scripts/test.sh) runs the
# integration tests this way; any single file too:
#   bash scripts/cpu-load.sh npx vitest run --project integration test/backups.test.ts
set -uo pipefail
(($#)) || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
hogs=()
stop_hogs() {
  ((${#hogs[@]})) && kill "${hogs[@]}" 2>/dev/null
  ((${#hogs[@]})) && wait "${hogs[@]}" 2>/dev/null
  hogs=()
}
trap 'stop_hogs; exit 130' INT TERM
for _ in $(seq "$(nproc)"); do
  bash -c 'while :; do :; done' &
  hogs+=("$!")
done
echo "[load] $(nproc) busy loops beside the command (pids ${hogs[*]})" >&2
"$@"
rc=$?
stop_hogs
echo "[load] busy loops stopped" >&2
exit "$rc"
