#!/usr/bin/env bash
# Build the real Debian 12 test guest offline from Debian packages (mmdebstrap)
# into a cache directory keyed by package versions.
#
#   guest/debian/build.sh     -> prints the artifact directory as the LAST stdout line
#
# The guest has systemd, qemu-guest-agent (enabled; it starts when the
# org.qemu.guest_agent.0 virtio-serial port Polyvisor gives appears), cloud-init
# (NoCloud only), openssh-server and a serial getty on ttyS0. The artefacts are
# vmlinuz + initrd.img (for direct kernel boot) and disk.qcow2 (compressed ext4
# root filesystem, no partition table: boot with `root=LABEL=pvroot`).
#
# Environment:
#   POLYVISOR_DEBIAN_CACHE   cache root (default: $HOME/.cache/polyvisor/debian)
#   POLYVISOR_DEBIAN_MIRROR  Debian mirror (default: http://deb.debian.org/debian)
#
# Progress goes to stderr. Safe to run twice and concurrently (flock). Needs root
# (mmdebstrap's root mode, chroot); installs its own missing host packages.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${POLYVISOR_DEBIAN_CACHE:-${HOME:-/root}/.cache/polyvisor/debian}
MIRROR=${POLYVISOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${MIRROR%/debian}/debian-security
SUITE=bookworm
LABEL=pvroot
CMDLINE="root=LABEL=$LABEL ro console=ttyS0,115200 net.ifnames=0 panic=-1"
DISK_SIZE=2G
# The packages that make the guest what it is; their candidate versions key the cache.
KEY_PACKAGES=(linux-image-cloud-amd64 systemd qemu-guest-agent cloud-init openssh-server)
INCLUDE=linux-image-cloud-amd64,systemd-sysv,qemu-guest-agent,cloud-init,openssh-server,ifupdown,isc-dhcp-client,e2fsprogs,udev,dbus
INPUT_FILES=(build.sh)

log() { printf '[debian-guest] %s\n' "$*" >&2; }
die() { printf '[debian-guest] ERROR: %s\n' "$*" >&2; exit 1; }

export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C.UTF-8
APT_OPTS=(-o APT::Sandbox::User=root -o Dpkg::Use-Pty=0 -q)

# ---------------------------------------------------------------- packages --
wait_dpkg_lock() {
  if command -v fuser >/dev/null 2>&1; then
    local n=0
    while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock >/dev/null 2>&1; do
      ((n++ % 15 == 0)) && log "waiting for the dpkg lock"
      sleep 2
    done
  fi
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    wait_dpkg_lock
    apt-get "${APT_OPTS[@]}" update >&2
    APT_UPDATED=1
  fi
}

ensure_packages() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root or install them"
  log "installing: ${missing[*]}"
  wait_dpkg_lock
  if ! apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >&2; then
    apt_update_once
    wait_dpkg_lock
    apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "${missing[@]}" >&2
  fi
}

[ "$(id -u)" = 0 ] || die "building the Debian guest needs root (mmdebstrap root mode, chroot)"
ensure_packages mmdebstrap e2fsprogs qemu-utils util-linux

candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1; }
versions() {
  local p v
  for p in "${KEY_PACKAGES[@]}"; do
    v=$(candidate "$p")
    { [ -n "$v" ] && [ "$v" != "(none)" ]; } || return 1
    printf '%s=%s\n' "$p" "$v"
  done
}
VERSIONS=$(versions || true)
if [ -z "$VERSIONS" ]; then
  apt_update_once
  VERSIONS=$(versions) || die "no candidate version for one of: ${KEY_PACKAGES[*]}"
fi

# --------------------------------------------------------------- cache key --
files_hash=$(cd "$HERE" && sha256sum -- "${INPUT_FILES[@]}")
KEY=$(printf '%s\n%s\n%s\n' "$SUITE" "$VERSIONS" "$files_hash" | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/$KEY"

manifest_complete() {
  local d=$1 f
  [ -s "$d/manifest.json" ] || return 1
  grep -q "\"key\": \"$KEY\"" "$d/manifest.json" || return 1
  for f in vmlinuz initrd.img disk.qcow2; do [ -s "$d/$f" ] || return 1; done
}

set_current() {
  ln -sfn "$KEY" "$CACHE_ROOT/.current.$$"
  mv -Tf "$CACHE_ROOT/.current.$$" "$CACHE_ROOT/current"
}

mkdir -p "$CACHE_ROOT"
if manifest_complete "$OUT"; then
  set_current
  log "up to date: $OUT"
  echo "$OUT"
  exit 0
fi

exec 9>"$CACHE_ROOT/.lock"
flock 9
if manifest_complete "$OUT"; then
  set_current
  log "built by a concurrent run: $OUT"
  echo "$OUT"
  exit 0
fi
rm -rf -- "$CACHE_ROOT"/.build-*

START=$(date +%s)
log "building Debian guest $KEY ($(echo "$VERSIONS" | tr '\n' ' '))"
WORK=$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")
cleanup() { rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
ROOTFS="$WORK/rootfs"
STAGE="$WORK/out"
mkdir -p "$STAGE"

# ------------------------------------------------------------- bootstrap --
# Documentation, man pages and translations are left out (path-exclude) to
# keep the image small; the apt lists are dropped at the end (--variant=apt
# keeps apt itself, so `apt-get update` inside the guest restores them).
log "mmdebstrap $SUITE ($INCLUDE)"
mmdebstrap --mode=root --variant=apt --include="$INCLUDE" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo "COMPRESS=gzip" > "$1/etc/initramfs-tools/conf.d/polyvisor"' \
  --skip=cleanup/apt/lists \
  "$SUITE" "$ROOTFS" \
  "deb $MIRROR $SUITE main" \
  "deb $MIRROR $SUITE-updates main" \
  "deb $SECURITY_MIRROR $SUITE-security main" >&2

# ------------------------------------------------------------- configure --
log "configuring the guest"
echo "LABEL=$LABEL / ext4 defaults,errors=remount-ro 0 1" > "$ROOTFS/etc/fstab"
echo debian > "$ROOTFS/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$ROOTFS/etc/hosts"
# Network: cloud-init writes interfaces.d/50-cloud-init from the seed's
# network-config, or DHCP on the first NIC (eth0 with net.ifnames=0) without one.
cat > "$ROOTFS/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

source /etc/network/interfaces.d/*
EOF
# Locale: C.UTF-8 (in libc, no `locales` package), set on both sides so
# cloud-init's locale module finds nothing to regenerate.
echo 'LANG=C.UTF-8' > "$ROOTFS/etc/default/locale"
# cloud-init: only NoCloud (Polyvisor's seed ISO, label CIDATA), then None; no
# probing of cloud metadata services that do not exist here.
cat > "$ROOTFS/etc/cloud/cloud.cfg.d/90_dpkg.cfg" <<'EOF'
# written by Polyvisor's guest/debian/build.sh
datasource_list: [ NoCloud, None ]
locale: C.UTF-8
EOF
# Root: no password (locked). Log in through a cloud-init user with an SSH key.
chroot "$ROOTFS" passwd -l root >/dev/null
chroot "$ROOTFS" systemctl enable serial-getty@ttyS0.service >&2
# qemu-guest-agent is started by udev when its port appears (the unit is
# static); it must not wait on anything else.
chroot "$ROOTFS" systemctl mask systemd-networkd-wait-online.service >&2 || true
# SSH host keys are made by cloud-init on first boot (ssh_deletekeys), never baked in.
rm -f "$ROOTFS"/etc/ssh/ssh_host_*
# A machine id is made on first boot.
: > "$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"

# Versions actually installed, for the manifest.
INSTALLED=$(chroot "$ROOTFS" dpkg-query -W -f='${Package}=${Version}\n' "${KEY_PACKAGES[@]}" linux-image-cloud-amd64 2>/dev/null | sort -u)
PKG_COUNT=$(chroot "$ROOTFS" dpkg-query -W -f='${Package}\n' | wc -l)

KVER=$(find "$ROOTFS/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tail -n1)
[ -n "$KVER" ] || die "no kernel installed"
[ -s "$ROOTFS/boot/initrd.img-$KVER" ] || die "no initrd for $KVER"
cp "$ROOTFS/boot/vmlinuz-$KVER" "$STAGE/vmlinuz"
cp "$ROOTFS/boot/initrd.img-$KVER" "$STAGE/initrd.img"

# Leave no apt lists or caches in the image.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb
rm -f "$ROOTFS"/var/log/*.log "$ROOTFS"/var/log/apt/* 2>/dev/null || true

# ------------------------------------------------------------------ disk --
USED=$(du -sm "$ROOTFS" | cut -f1)
log "mkfs.ext4 -d ($USED MiB used) into a $DISK_SIZE raw file"
mkfs.ext4 -q -F -L "$LABEL" -E root_owner=0:0 -d "$ROOTFS" "$WORK/root.raw" "$DISK_SIZE" >&2
e2fsck -fn "$WORK/root.raw" >&2 || die "the new filesystem is not clean"
log "qemu-img convert -c to qcow2"
qemu-img convert -c -f raw -O qcow2 "$WORK/root.raw" "$STAGE/disk.qcow2"
rm -f "$WORK/root.raw"

# -------------------------------------------------------------- manifest --
sha() { sha256sum "$STAGE/$1" | cut -d' ' -f1; }
pkg_json=$(echo "$INSTALLED" | sed 's/^\([^=]*\)=\(.*\)$/    "\1": "\2"/' | paste -sd, | sed 's/,/,\n/g')
SECONDS_TAKEN=$(($(date +%s) - START))
cat > "$STAGE/manifest.json" <<EOF
{
  "key": "$KEY",
  "suite": "$SUITE",
  "kernelVersion": "$KVER",
  "packages": {
$pkg_json
  },
  "packageCount": $PKG_COUNT,
  "rootLabel": "$LABEL",
  "usedMiB": $USED,
  "cmdline": "$CMDLINE",
  "loginPrompt": "login:",
  "buildSeconds": $SECONDS_TAKEN,
  "files": { "kernel": "vmlinuz", "initrd": "initrd.img", "disk": "disk.qcow2" },
  "sha256": {
    "vmlinuz": "$(sha vmlinuz)",
    "initrd.img": "$(sha initrd.img)",
    "disk.qcow2": "$(sha disk.qcow2)"
  }
}
EOF
chmod 644 "$STAGE"/*

if [ -e "$OUT" ]; then rm -rf -- "$OUT"; fi
mv -T "$STAGE" "$OUT"
set_current
log "done in ${SECONDS_TAKEN}s: $OUT (disk.qcow2 $(du -m "$OUT/disk.qcow2" | cut -f1) MiB, $USED MiB used in the filesystem)"
echo "$OUT"
