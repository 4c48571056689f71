#!/usr/bin/env bash
# The main job on a fresh Debian machine: sets up what is missing, runs the
# daemon (API + web page on http://127.0.0.1:8006, embedded SQLite store) and
# a demo VM booted from the project's test guest, with a small blank disk so
# snapshots and backups work on it. Ctrl-C stops the daemon; the VM keeps
# running (VMs outlive the daemon) until `polyvisor vm stop demo`.
#
# Environment: POLYVISOR_STATE_DIR (default .state/demo), POLYVISOR_LISTEN
# (default 127.0.0.1:8006, "off" for none), POLYVISOR_DEMO_WEB_PORT (the host
# port forwarded to the demo VM's web server, default 8080), POLYVISOR_LOG_LEVEL,
# POLYVISOR_SKIP_SETUP=1 (skip scripts/setup.sh: the integration tests set it,
# their run's setup already built everything).
# The daemon's log goes to daemon.log in the state directory (text lines).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE=${POLYVISOR_STATE_DIR:-$PWD/.state/demo}
LISTEN=${POLYVISOR_LISTEN:-127.0.0.1:8006}
WEB_PORT=${POLYVISOR_DEMO_WEB_PORT:-8080}
LOG=$STATE/daemon.log
say() { printf '[demo] %s\n' "$*" >&2; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

# Checked before anything is installed, built or started, so a clash is reported at once.
command -v node >/dev/null || die "Node.js is missing: install Node.js 20 or newer (e.g. apt-get install nodejs), then run this again"
[[ $WEB_PORT =~ ^[0-9]+$ ]] || die "POLYVISOR_DEMO_WEB_PORT=$WEB_PORT is not a port number"
if [ -f "$STATE/daemon.json" ]; then
  running=$(node -e '
    const i = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    let alive = false; try { process.kill(i.pid, 0); alive = true; } catch {}
    if (alive) console.log(`${i.pid} ${i.url ?? "(no TCP listener)"}`);' "$STATE/daemon.json" 2>/dev/null || true)
  if [ -n "$running" ]; then
    die "a Polyvisor daemon (pid ${running%% *}) already runs for $STATE and serves ${running#* }: use it (export POLYVISOR_STATE_DIR=$STATE), or stop it with \`kill ${running%% *}\` and run this again"
  fi
fi
if [ "$LISTEN" != off ]; then
  problem=$(node -e '
    const a = process.argv[1]; const i = a.lastIndexOf(":");
    const host = a.slice(0, i).replace(/^\[|\]$/g, ""), port = Number(a.slice(i + 1));
    if (i < 1 || !Number.isInteger(port) || port < 0 || port > 65535) { console.log("it is not HOST:PORT"); process.exit(); }
    const s = require("net").createServer();
    s.once("error", (e) => console.log(e.code === "EADDRINUSE" ? "the port is already in use by another program" : e.code === "EACCES" ? "binding it needs root (ports below 1024)" : e.code === "EADDRNOTAVAIL" ? "this host has no such address" : e.code));
    s.listen({ host, port, exclusive: true }, () => s.close());' "$LISTEN")
  if [ -n "$problem" ]; then
    die "cannot listen on $LISTEN: $problem. Pick a free address with POLYVISOR_LISTEN (e.g. POLYVISOR_LISTEN=127.0.0.1:8007 bash scripts/demo.sh), or stop what holds it (ss -ltnp shows it). Nothing was started."
  fi
fi

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd -P)
# A root daemon runs each VM's QEMU as its own unprivileged user (qemuUser: per-vm, the default), which must pass
# through every folder above the state directory. A clone under a closed home (/root is 0700) shuts them out of
# their own files: then this demo runs its QEMUs as root and says so (the product's daemon refuses instead).
if [ "$(id -u)" = 0 ] && [ "${POLYVISOR_QEMU_USER:-per-vm}" = per-vm ]; then
  up=$(dirname "$STATE")
  while :; do
    if [ $(( $(stat -c '0%a' "$up") & 1 )) = 0 ]; then
      if [ -n "${POLYVISOR_QEMU_USER:-}" ]; then
        die "POLYVISOR_QEMU_USER=per-vm, but $up (mode $(stat -c %a "$up")) is closed to other users and the state directory $STATE lies below it: the VM's QEMU could not reach its files. Put the state elsewhere (POLYVISOR_STATE_DIR=/var/lib/polyvisor-demo) or run \`chmod o+x $up\`. Nothing was started."
      fi
      say "$up (mode $(stat -c %a "$up")) is closed to other users and holds the state directory: the demo VM's QEMU runs as root (qemuUser: root). To give it its own unprivileged user, set POLYVISOR_STATE_DIR=/var/lib/polyvisor-demo (or clone under /srv)"
      export POLYVISOR_QEMU_USER=root
      break
    fi
    [ "$up" = / ] && break
    up=$(dirname "$up")
  done
fi
GUEST=
if [ "${POLYVISOR_SKIP_SETUP:-0}" != 1 ]; then
  POLYVISOR_SETUP_GUEST_FILE=$STATE/.guest-dir bash scripts/setup.sh # it builds the test guest and names its directory
  GUEST=$(cat "$STATE/.guest-dir")
fi
export POLYVISOR_STATE_DIR=$STATE
pv() { node bin/polyvisor.js "$@"; }
# Runs a CLI command quietly; shows its output only when it fails.
quiet() { local out; if ! out=$("$@" 2>&1); then printf '%s\n' "$out" >&2; return 1; fi; }

rm -f "$STATE/daemon.json" # stale (its daemon is gone, checked above): readiness is its reappearance
say "starting polyvisord (log: $LOG)"
printf '\n--- %s demo.sh starts polyvisord ---\n' "$(date -Is)" >>"$LOG"
node bin/polyvisord.js --state-dir "$STATE" --listen "$LISTEN" --log-format text --log-level "${POLYVISOR_LOG_LEVEL:-info}" >>"$LOG" 2>&1 &
DAEMON=$!
# Until the banner: any failure stops the daemon this script started (and says so).
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null; echo "demo: stopped polyvisord after a failure (log: $LOG)" >&2' EXIT
trap 'exit 130' INT TERM
# While the daemon starts: the test guest and its kernel command line.
[ -n "$GUEST" ] || GUEST=$(bash guest/build.sh 2>/dev/null | tail -n 1)
# The VM boots from a copy in the state directory: the build cache lives under root's home, closed to a QEMU
# running as its VM's own user. README's "Using it" boots its VM from the same copy ($POLYVISOR_STATE_DIR/guest).
mkdir -p "$STATE/guest"
chmod 0755 "$STATE/guest"
for f in vmlinuz initrd.img manifest.json; do
  cmp -s "$GUEST/$f" "$STATE/guest/$f" || install -m 0644 "$GUEST/$f" "$STATE/guest/$f"
done
GUEST=$STATE/guest
CMDLINE=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).cmdline)' "$GUEST/manifest.json")
for _ in $(seq 600); do
  [ -f "$STATE/daemon.json" ] && break
  if ! kill -0 $DAEMON 2>/dev/null; then
    tail -n 5 "$LOG" >&2
    die "polyvisord exited while starting (above: the end of $LOG)"
  fi
  sleep 0.1
done
[ -f "$STATE/daemon.json" ] || { kill -TERM $DAEMON; die "polyvisord did not become ready in 60 s; see $LOG"; }
URL=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url ?? "")' "$STATE/daemon.json")

# One look at the demo VM: "STATE DISKS KERNEL", or "none".
info=$({ pv vm show demo --json 2>/dev/null || true; } | node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{try{const v=JSON.parse(s);console.log(`${v.state} ${v.spec.disks.length} ${v.spec.boot?.kernel ?? "-"}`)}catch{console.log("none")}})')
if [ "$info" != none ]; then
  read -r vm_state vm_disks vm_kernel <<<"$info"
  if [ "$vm_disks" = 0 ]; then
    say "the demo VM of an older demo has no disk: recreating it"
    quiet pv vm rm demo --force
    info=none
  elif [ "$vm_kernel" != "$GUEST/vmlinuz" ] && [ "$vm_state" != running ] && [ "$vm_state" != paused ]; then
    say "the demo VM of an older demo boots from $vm_kernel, outside the state directory: recreating it"
    quiet pv vm rm demo --force
    info=none
  else
    info=$vm_state
  fi
fi
if [ "$info" = none ]; then
  say "creating the demo VM (test guest, 256 MiB, a 64 MiB blank disk, web server on 127.0.0.1:$WEB_PORT)"
  quiet pv vm create demo --from - --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.img" --append "$CMDLINE pv.name=demo" <<YAML
version: 1
memory: 256Mi
labels: { app: demo }
disks:
  - { name: data, size: 64Mi }   # a blank qcow2 in the VM's directory: snapshots and backups work on it
networks:
  - name: net0
    portForwards: [{ hostPort: $WEB_PORT, guestPort: 80 }]
YAML
  info=created
fi
case $info in
  running | paused) ;;
  suspended) say "resuming the demo VM"; quiet pv vm resume demo ;;
  *) say "starting the demo VM"; quiet pv vm start demo ;;
esac
# An admin token for the web UI, kept (mode 0600) in the state directory for later runs.
TOKEN_FILE=$STATE/web-admin.token
if [ ! -s "$TOKEN_FILE" ]; then
  pv token revoke demo-web >/dev/null 2>&1 || true
  (umask 077; pv token create demo-web --role admin 2>/dev/null >"$TOKEN_FILE")
fi

trap - EXIT
trap 'kill -TERM $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null; exit 130' INT TERM
# The banner is the last thing printed: the daemon writes to its log file, not here.
cat <<MSG

Polyvisor is running.
  Web UI:       ${URL:-(no TCP listener: POLYVISOR_LISTEN=off)}/
  Admin token:  $TOKEN_FILE   (paste it into the web UI's login)
  Demo VM:      demo   (its web server: http://127.0.0.1:$WEB_PORT/)
  CLI:          export POLYVISOR_STATE_DIR=$STATE
                node bin/polyvisor.js vm list        (README "Using it" for more)
  Daemon log:   $LOG
  Stop:         Ctrl-C stops the daemon (the demo VM keeps running); node bin/polyvisor.js vm stop demo stops the VM
MSG
wait $DAEMON || true
echo "demo: polyvisord stopped (log: $LOG)" >&2
