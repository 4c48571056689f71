#!/usr/bin/env bash
# Runs the benchmarks by hand (never in CI) and rewrites their sections of
# docs/benchmarks.md. Usage: bash bench/run.sh [NAME…]   (default: every bench/NAME.ts)
# Needs root: it installs Debian packages and starts libvirt's system daemon.
# Env: BENCH_ROUNDS (rounds; each benchmark has its own default); BENCH_SKIP_SETUP=1 skips
# scripts/setup.sh (when dist/ and the guest are already fresh: setup.sh may run
# `npm ci`, which replaces node_modules under anything else using it).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[bench] %s\n' "$*" >&2; }

ALL=()
for f in bench/*.ts; do ALL+=("$(basename "$f" .ts)"); done
BENCHES=("$@")
((${#BENCHES[@]})) || BENCHES=("${ALL[@]}")

if [ "$(id -u)" != 0 ]; then
  log "run as root: the libvirt comparison needs libvirt's system daemon"
  exit 1
fi

# libvirt, the comparison peer: the daemon, its QEMU driver and virsh.
PKGS=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients iptables) # iptables: libvirt's NAT networks (bench/network.ts)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  while fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; do sleep 2; done
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libvirtd refuses to start QEMU without this user (libvirt-daemon-system would create it).
if ! getent passwd libvirt-qemu >/dev/null; then
  log "creating the libvirt-qemu system user"
  useradd --system --user-group --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
fi
mkdir -p /var/log/libvirt

# QEMU under libvirt runs as root: it must read the test guest under ~/.cache, and
# with /dev/kvm root-only, running it as libvirt-qemu makes libvirt re-probe QEMU
# on every start (see docs/benchmarks.md).
if [ ! -e /etc/libvirt/qemu.conf ]; then
  log "writing /etc/libvirt/qemu.conf (user = \"root\")"
  cat > /etc/libvirt/qemu.conf <<'CONF'
# Written by polyvisor bench/run.sh: run QEMU as root, so libvirt can read the
# test guest under /root/.cache and does not re-probe QEMU on every start
# (where /dev/kvm is root-only, libvirt-qemu sees a KVM mismatch).
user = "root"
group = "root"
CONF
  if pgrep -x libvirtd >/dev/null; then log "warning: libvirtd already runs; restart it to apply qemu.conf"; fi
elif ! grep -qE '^\s*user\s*=\s*"root"' /etc/libvirt/qemu.conf; then
  log "warning: /etc/libvirt/qemu.conf does not set user = \"root\"; libvirt may not read the guest or may re-probe QEMU on each start"
fi

# Build the project (dist/) and the test guest.
if [ "${BENCH_SKIP_SETUP:-0}" = 1 ]; then
  log "BENCH_SKIP_SETUP=1: using the existing dist/ and test guest"
else
  bash scripts/setup.sh
fi

for b in "${BENCHES[@]}"; do
  [ -f "bench/$b.ts" ] || { log "no benchmark named $b (have: ${ALL[*]})"; exit 2; }
  log "running $b"
  npx --no-install tsx "bench/$b.ts"
done
