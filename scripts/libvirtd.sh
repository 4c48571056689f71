#!/usr/bin/env bash
# A PRIVATE libvirtd for tests and benchmarks (never the system one).
#
#   scripts/libvirtd.sh start DIR   starts it (or finds it running) and prints its URI
#   scripts/libvirtd.sh uri DIR     prints the URI of the instance in DIR
#   scripts/libvirtd.sh stop DIR    stops it by the PID in DIR/libvirtd.pid (and the QEMUs it started)
#
# Everything of the instance lives under DIR: its config (DIR/etc), runtime dir
# and sockets (DIR/run), state (DIR/lib), cache and logs. libvirt 9.0 in Debian
# is the monolithic libvirtd, whose QEMU driver paths (/run/libvirt/qemu,
# /var/lib/libvirt/qemu…) are fixed at build time; the daemon therefore runs in
# its own mount namespace (unshare -m) where DIR's folders are bind-mounted
# over /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
# /var/log/libvirt. Two instances (or an instance beside the system's libvirtd)
# run side by side: each sees only its own folders, has its own socket and its
# own host_uuid (kept in DIR/host_uuid, so a restart keeps it).
#
# QEMU runs as root with no cgroup placement, no mount namespace and no
# security driver (tests only), its stdio goes to a log file (no virtlogd), and
# nothing is set for migration: libvirt refuses migration_address and
# migration_host = 127.0.0.1 in qemu.conf ("must not be the address of the
# local machine"), so a client migrating between two instances on one host
# passes --migrateuri tcp://127.0.0.1:PORT and --listen-address 127.0.0.1 per
# migration (the driver does).
#
# Safe to run twice: `start` on a running instance prints its URI again.
set -euo pipefail
die() { printf 'libvirtd.sh: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}
dir=${2:-}
case "$cmd" in start|stop|uri) ;; *) die "usage: $0 start|stop|uri DIR" ;; esac
[ -n "$dir" ] || die "usage: $0 $cmd DIR (the folder that holds the instance)"
[ "$(id -u)" = 0 ] || die "needs root (a libvirtd in system mode, in its own mount namespace)"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
case "$dir" in *[[:space:]\",\'\\?\&=]*) die "$dir: the folder's path may not hold spaces, quotes, commas or ?&= (it goes into a URI and config files)" ;; esac
pidfile=$dir/libvirtd.pid
sock=$dir/run/libvirt-sock
uri="qemu+unix:///system?socket=$sock"

alive() { # the instance's libvirtd runs (the PID in its pidfile is a libvirtd)
  [ -s "$pidfile" ] || return 1
  local pid; pid=$(cat "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "libvirtd .*$dir/etc/libvirt/libvirtd.conf"
}

qemus() { # PIDs of QEMUs this instance started (their pidfiles under DIR/run/qemu)
  local f pid
  for f in "$dir"/run/qemu/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [[ $pid =~ ^[0-9]+$ ]] && [ -d "/proc/$pid" ] && echo "$pid"
  done
  return 0
}

if [ "$cmd" = uri ]; then alive || die "no libvirtd runs for $dir (start it with: $0 start $dir)"; echo "$uri"; exit 0; fi

if [ "$cmd" = stop ]; then
  if alive; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  # Domains keep running when libvirtd stops (as on a real host); a test instance takes them along.
  for q in $(qemus); do kill -KILL "$q" 2>/dev/null || true; done
  rm -f "$pidfile"
  exit 0
fi

# start
if alive; then echo "$uri"; exit 0; fi
command -v libvirtd >/dev/null || die "libvirtd is missing: apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
command -v unshare >/dev/null || die "unshare is missing (util-linux)"
id libvirt-qemu >/dev/null 2>&1 || die "the libvirt-qemu user is missing (the libvirt-daemon-driver-qemu package creates it)"

mkdir -p "$dir"/etc/libvirt "$dir"/run "$dir"/lib "$dir"/cache "$dir"/log
chmod 0700 "$dir"
[ -s "$dir/host_uuid" ] || cat /proc/sys/kernel/random/uuid > "$dir/host_uuid"
host_uuid=$(cat "$dir/host_uuid")
cat > "$dir/etc/libvirt/libvirtd.conf" <<EOF
# Written by scripts/libvirtd.sh for a private test instance.
unix_sock_dir = "$dir/run"
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "$host_uuid"
log_outputs = "3:file:$dir/log/libvirtd.log"
keepalive_interval = 5
max_clients = 200
max_workers = 20
EOF
cat > "$dir/etc/libvirt/qemu.conf" <<EOF
# Written by scripts/libvirtd.sh for a private test instance.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
save_image_format = "raw"
EOF
: > "$dir/etc/libvirt/libvirt.conf"
rm -f "$pidfile"

# The namespace's setup gets DIR as an argument, never spliced into the script text.
unshare --mount --propagation private -- bash -c '
  set -e
  d=$1
  mount --bind "$d/etc/libvirt" /etc/libvirt
  mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt
  mount --bind "$d/run" /run/libvirt
  mount --bind "$d/lib" /var/lib/libvirt
  mount --bind "$d/cache" /var/cache/libvirt
  mount --bind "$d/log" /var/log/libvirt
  exec libvirtd -d -f "$d/etc/libvirt/libvirtd.conf" -p "$d/libvirtd.pid"
' libvirtd-private "$dir" </dev/null >"$dir/log/start.log" 2>&1 || die "libvirtd did not start: $(tail -n 5 "$dir/log/start.log")"

for _ in $(seq 1 300); do
  if [ -s "$pidfile" ] && ! alive; then
    die "libvirtd exited while starting; its log: $(grep -E ' error : ' "$dir/log/libvirtd.log" 2>/dev/null | tail -n 3)"
  fi
  if alive && [ -S "$sock" ] && virsh -q -c "$uri" version >/dev/null 2>&1; then echo "$uri"; exit 0; fi
  sleep 0.1
done
die "libvirtd did not open $sock within 30 s; its log: $(tail -n 5 "$dir/log/libvirtd.log" 2>/dev/null)"
