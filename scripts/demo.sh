#!/usr/bin/env bash
# The main job on a fresh Debian machine: sets up what is missing, runs the
# daemon (API + web page on http://127.0.0.1:8006, embedded SQLite store) and
# a demo VM booted from the project's test guest. Ctrl-C stops the daemon;
# the VM keeps running (VMs outlive the daemon) until `polyvisor vm stop demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
STATE=${POLYVISOR_STATE_DIR:-$PWD/.state/demo}
LISTEN=${POLYVISOR_LISTEN:-127.0.0.1:8006}
mkdir -p "$STATE"
export POLYVISOR_STATE_DIR=$STATE
pv() { node bin/polyvisor.js "$@"; }

node bin/polyvisord.js --state-dir "$STATE" --listen "$LISTEN" --log-level "${POLYVISOR_LOG_LEVEL:-info}" &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON' INT TERM
for _ in $(seq 100); do [ -f "$STATE/daemon.json" ] && break; sleep 0.1; done

GUEST=$(bash guest/build.sh | tail -n 1)
CMDLINE=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).cmdline)' "$GUEST/manifest.json")
if ! pv vm show demo >/dev/null 2>&1; then
  pv vm create demo --memory 256Mi --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" \
    --append "$CMDLINE pv.name=demo" --label app=demo --forward 127.0.0.1:8080:80
fi
state=$(pv vm show demo --json | node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>console.log(JSON.parse(s).state))')
case $state in running|paused) ;; suspended) pv vm resume demo ;; *) pv vm start demo ;; esac
# An admin token for the web UI, kept (mode 0600) in the state directory for later runs.
TOKEN_FILE=$STATE/web-admin.token
if [ ! -s "$TOKEN_FILE" ]; then
  pv token revoke demo-web >/dev/null 2>&1 || true
  (umask 077; pv token create demo-web --role admin 2>/dev/null > "$TOKEN_FILE")
fi
cat <<MSG

Polyvisor is running.
  Web UI:     http://$LISTEN/   (log in with the admin token in $TOKEN_FILE)
  API:        http://$LISTEN/v1/vms   (and the unix socket $STATE/polyvisord.sock)
  Demo VM:    guest web server at http://127.0.0.1:8080/
  Try:        POLYVISOR_STATE_DIR=$STATE node bin/polyvisor.js vm list
              POLYVISOR_STATE_DIR=$STATE node bin/polyvisor.js console demo   (Ctrl-] detaches)
Ctrl-C stops the daemon; the demo VM keeps running.
MSG
wait $DAEMON
