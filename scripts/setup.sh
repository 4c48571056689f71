#!/usr/bin/env bash
# Installs whatever is missing for Polyvisor on a Debian machine, builds it,
# and builds the test guest. Safe to run twice: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages: QEMU and disk tools, UEFI firmware, SQLite build needs, xorriso (cloud-init seeds),
# prometheus (promtool checks and unit-tests ops/prometheus/alerts.yml), openssl (the daemon's TLS certificate),
# chromium (the web UI's end-to-end tests drive Debian's browser through playwright-core; nothing is downloaded).
# libvirt (the libvirt driver's daemon, virsh, virt-xml-validate with the xmllint it runs), Go and govmomi (vcsim, VMware's vCenter simulator, built
# by scripts/vcsim-build.sh for the vSphere driver's tests).
# Virtual networks: iproute2 (bridges, taps, namespaces), dnsmasq-base (DHCP and DNS per network), nftables (NAT, forwards,
# firewall), iperf3 (the network benchmark). Clusters: etcd-server and etcd-client (the cluster store; tests start their own members).
# NUMA balancing: numactl (its migratepages moves a VM's pages between host nodes, docs/topology.md).
PKGS=(qemu-system-x86 qemu-utils ovmf busybox-static qemu-guest-agent cpio python3 make g++ ca-certificates openssl xorriso prometheus chromium
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libxml2-utils golang-go golang-github-vmware-govmomi-dev
  iproute2 dnsmasq-base nftables iperf3 etcd-server etcd-client numactl)
# The appliance image (guest/appliance/build.sh): GRUB for BIOS and UEFI, FAT and GPT tools, hyperv-daemons is fetched by it.
PKGS+=(grub-common grub-pc-bin grub-efi-amd64-bin mtools dosfstools fdisk)
# virt-v2v converts Polyvisor's exported OVAs in test/interchange-v2v.test.ts (LIBGUESTFS_BACKEND=direct): libguestfs-tools
# (guestfish makes the test's BIOS-bootable Debian disk), linux-image-cloud-amd64 (a kernel in /boot for the libguestfs
# appliance), nbdkit and libnbd-bin (virt-v2v's `-o local` writes through nbdkit and nbdcopy; Debian only recommends them).
# Only with POLYVISOR_TEST_V2V=1, as that test runs only then (minutes of TCG conversion; about 5 min of packages).
if [ "${POLYVISOR_TEST_V2V:-0}" = 1 ]; then PKGS+=(virt-v2v libguestfs-tools linux-image-cloud-amd64 nbdkit libnbd-bin); fi
# One dpkg-query for all of them (one call per package cost about a second on a busy host). It exits 1 when
# any of them is unknown to dpkg (never installed), which under pipefail would end this script silently.
installed=" $( { dpkg-query -W -f='${Package}=${Status}\n' "${PKGS[@]}" 2>/dev/null || true; } | sed -n 's/=install ok installed$//p' | tr '\n' ' ') "
missing=()
for p in "${PKGS[@]}"; do
  [[ $installed == *" $p "* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  while fuser /var/lib/dpkg/lock-frontend >/dev/null 2>&1; do sleep 2; done
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libvirtd's QEMU driver looks up its build-time user and group (libvirt-qemu) when it starts, even where
# qemu.conf says root (scripts/libvirtd.sh's private instances do). Debian creates them in
# libvirt-daemon-system's postinst, which this script does not install (it would start a system libvirtd):
# make them as that postinst does when they are missing.
if ! id libvirt-qemu >/dev/null 2>&1; then
  log "creating the libvirt-qemu system user (libvirtd's QEMU driver needs it to start)"
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent group kvm >/dev/null || groupadd --system kvm
  useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin --comment "Libvirt Qemu" libvirt-qemu
fi

# npm packages: `npm ci` only when package-lock.json changed since the last install: the hash kept in
# node_modules/.polyvisor-lock differs, and npm's own record of the last install
# (node_modules/.package-lock.json, written by npm ci / npm install) is older than package-lock.json.
# `npm ci` empties node_modules first: it must not run when nothing changed.
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
installed=0
[ -f node_modules/.polyvisor-lock ] && [ "$(cat node_modules/.polyvisor-lock)" = "$lock_hash" ] && installed=1
[ -f node_modules/.package-lock.json ] && ! [ package-lock.json -nt node_modules/.package-lock.json ] && installed=1
if [ "$installed" = 0 ]; then
  log "npm ci (better-sqlite3 compiles from source: about 90 s)"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "$lock_hash" > node_modules/.polyvisor-lock

# TypeScript, the CLI bundle and the web UI: built only when an input changed (a stamp in dist/).
bash scripts/build-if-changed.sh

# vcsim for the vSphere driver's tests (cached by the Go and govmomi versions).
[ -f scripts/vcsim-build.sh ] && bash scripts/vcsim-build.sh >/dev/null

log "building the test guest (cached by package versions)"
GUEST_DIR=$(bash guest/build.sh | tail -n 1)
# For scripts/demo.sh, which would otherwise ask guest/build.sh again (seconds of apt-cache on a busy host).
[ -n "${POLYVISOR_SETUP_GUEST_FILE:-}" ] && printf '%s\n' "$GUEST_DIR" >"$POLYVISOR_SETUP_GUEST_FILE"
log "building the appliance image (cached by its inputs; test/appliance.test.ts writes its formats)"
bash guest/appliance/build.sh >/dev/null
log "ready"
