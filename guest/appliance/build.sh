#!/usr/bin/env bash
# Build Polyvisor's appliance: a small Linux guest on one hybrid BIOS+UEFI
# disk (GPT: a BIOS boot partition holding GRUB's core.img, and an EFI system
# partition holding GRUB for UEFI, the kernel and the initramfs userland),
# cached by its inputs, and optionally written out in several formats.
#
#   guest/appliance/build.sh [--out DIR] [--formats LIST]
#       -> prints the cached build directory (or DIR, with --out) as the LAST stdout line
#
#   LIST: comma-separated, from qcow2,raw,vdi,vhdx,vmdk,vmdk-stream,vpc,ova (default: all)
#
# Environment:
#   POLYVISOR_APPLIANCE_CACHE   cache root (default: $HOME/.cache/polyvisor/appliance)
#   POLYVISOR_APPLIANCE_VERSION version stamped into the image and file names (default: package.json's)
#   SOURCE_DATE_EPOCH           timestamps in the image (default: 2000-01-01); same inputs and
#                               the same value give the same bytes (SHA256SUMS)
#
# Everything comes from Debian packages: the kernel, busybox and qemu-ga come
# from the test guest (guest/build.sh, cached), GRUB from grub-pc-bin and
# grub-efi-amd64-bin, hyperv-daemons and systemd-detect-virt from Debian, the
# SSH server (dropbear) from dropbear-bin and the firewall (nft) from nftables.
# Progress goes to stderr. Safe to run twice and concurrently (flock).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE_ROOT=${POLYVISOR_APPLIANCE_CACHE:-${HOME:-/root}/.cache/polyvisor/appliance}
ALL_FORMATS=qcow2,raw,vdi,vhdx,vmdk,vmdk-stream,vpc,ova
OUT_DIR=
FORMATS=$ALL_FORMATS

log() { printf '[appliance] %s\n' "$*" >&2; }
die() { printf '[appliance] ERROR: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; OUT_DIR=$2; shift 2 ;;
    --formats) [ $# -ge 2 ] || die "--formats needs a list"; FORMATS=$2; shift 2 ;;
    *) die "unknown argument: $1 (usage: build.sh [--out DIR] [--formats $ALL_FORMATS])" ;;
  esac
done
IFS=, read -r -a FORMAT_LIST <<< "$FORMATS"
[ ${#FORMAT_LIST[@]} -gt 0 ] || die "--formats is empty"
for f in "${FORMAT_LIST[@]}"; do
  [[ ",$ALL_FORMATS," == *",$f,"* ]] || die "unknown format '$f' (known: $ALL_FORMATS)"
done

VERSION=${POLYVISOR_APPLIANCE_VERSION:-$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' "$REPO/package.json" | head -n1)}
[[ "$VERSION" =~ ^[0-9A-Za-z.+~-]+$ ]] || die "bad version '$VERSION'"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-946684800}
[[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number of seconds"
export TZ=UTC LC_ALL=C
export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-o APT::Sandbox::User=root -o Dpkg::Use-Pty=0 -q)

DISK_MIB=64
BIOS_PART_START=2048 BIOS_PART_SECTORS=2048 ESP_START=4096
FAT_ID=504f4c56
FAT_UUID=504F-4C56
CMDLINE="console=tty0 console=ttyS0,115200 panic=-1 quiet no_timer_check"
# Modules beyond the test guest's, for other platforms' devices.
# nf_tables and nft_ct (conntrack) for the firewall (rootfs/etc/nftables.conf).
EXTRA_MODULES=(vmxnet3 vmw_pvscsi vmw_balloon vmw_vmci hv_vmbus hv_utils hv_netvsc hv_storvsc hv_balloon softdog nf_tables nft_ct)
INPUT_FILES=(build.sh pin-ids.py pv-cpuid.c)
while IFS= read -r f; do INPUT_FILES+=("$f"); done < <(cd "$HERE" && find rootfs -type f | LC_ALL=C sort)

# ---------------------------------------------------------------- packages --
wait_dpkg_lock() {
  if command -v fuser >/dev/null 2>&1; then
    while fuser /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock >/dev/null 2>&1; do sleep 2; done
  fi
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
pkg_version() { dpkg-query -W -f='${Version}' "$1"; }
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
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
download() { # PKG=VERSION into the current directory
  apt-get "${APT_OPTS[@]}" download "$1" >&2 || { apt_update_once; apt-get "${APT_OPTS[@]}" download "$1" >&2; }
}
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1; }

ensure_packages grub-common grub-pc-bin grub-efi-amd64-bin mtools dosfstools fdisk qemu-utils python3 \
  gcc libc6-dev cpio gzip kmod systemd dropbear-bin nftables

# The test guest gives the kernel, busybox, qemu-ga and the virtio modules.
GUEST=$(bash "$REPO/guest/build.sh" | tail -n1)
[ -s "$GUEST/manifest.json" ] || die "guest/build.sh gave no guest"
json() { sed -n "s/^  \"$1\": \"\\([^\"]*\\)\".*/\\1/p" "$GUEST/manifest.json" | head -n1; }
GUEST_KEY=$(json key)
KPKG=$(json kernelPackage)
KPKG_VERSION=$(json kernelPackageVersion)
HV_VERSION=$(candidate hyperv-daemons)
if [ -z "$HV_VERSION" ] || [ "$HV_VERSION" = "(none)" ]; then
  apt_update_once
  HV_VERSION=$(candidate hyperv-daemons)
fi
[ -n "$HV_VERSION" ] && [ "$HV_VERSION" != "(none)" ] || die "no candidate version for hyperv-daemons"
VERSIONS="guest=$GUEST_KEY
grub=$(pkg_version grub-pc-bin)/$(pkg_version grub-efi-amd64-bin)
hyperv-daemons=$HV_VERSION
systemd=$(pkg_version systemd)
dropbear-bin=$(pkg_version dropbear-bin)
nftables=$(pkg_version nftables)/$(pkg_version libnftables1)
mtools=$(pkg_version mtools)
dosfstools=$(pkg_version dosfstools)
gcc=$(pkg_version gcc)"

# --------------------------------------------------------------- cache key --
files_hash=$(cd "$HERE" && sha256sum -- "${INPUT_FILES[@]}")
KEY=$(printf 'version=%s\nepoch=%s\n%s\n%s\n' "$VERSION" "$SOURCE_DATE_EPOCH" "$VERSIONS" "$files_hash" | sha256sum | cut -c1-16)
BUILD="$CACHE_ROOT/$KEY"

complete() {
  [ -s "$1/manifest.json" ] && grep -q "\"key\": \"$KEY\"" "$1/manifest.json" && [ -s "$1/disk.raw" ]
}
set_current() {
  ln -sfn "$KEY" "$CACHE_ROOT/.current.$$"
  mv -Tf "$CACHE_ROOT/.current.$$" "$CACHE_ROOT/current"
}

copy_with_libs() { # BINARY ROOT: the binary and the shared libraries it loads, at the same paths
  local bin=$1 root=$2 lib
  mkdir -p "$root$(dirname "$bin")"
  cp "$bin" "$root$bin"
  for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

build_image() {
  local START WORK ROOT DIAG KROOT KVER ESP STAGE
  START=$(date +%s)
  log "building appliance $VERSION ($KEY) on guest $GUEST_KEY"
  WORK=$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf -- '$WORK'" EXIT
  chmod 755 "$WORK"
  ROOT="$WORK/root" DIAG="$WORK/diag" KROOT="$WORK/kernel" ESP="$WORK/esp" STAGE="$WORK/out"
  mkdir -p "$ROOT" "$DIAG" "$ESP/boot/grub" "$ESP/EFI/BOOT" "$STAGE" "$WORK/dl"

  # The test guest's initramfs is the base: busybox, qemu-ga and its libraries, modules
  # (its /dev/console entry is left out here and made again below, without mknod).
  (cd "$ROOT" && gzip -dc "$GUEST/initrd.img" | cpio --quiet -id --no-absolute-filenames -f 'dev/console')
  rm -rf "$ROOT/www" "$ROOT/usr/bin/memtest" "$ROOT/etc/profile" "$ROOT/etc/init.d" "$ROOT/etc/inittab"
  cp -a "$HERE/rootfs/." "$ROOT/"
  chown -R 0:0 "$ROOT"
  chmod 640 "$ROOT/etc/shadow"
  KVER=$(find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)

  # Modules for VMware, Hyper-V and the software watchdog, from the same kernel package.
  log "downloading $KPKG=$KPKG_VERSION and hyperv-daemons=$HV_VERSION"
  (cd "$WORK/dl" && download "$KPKG=$KPKG_VERSION" && download "hyperv-daemons=$HV_VERSION")
  dpkg -x "$WORK"/dl/linux-image-*.deb "$KROOT"
  depmod -b "$KROOT" "$KVER"
  local m kind path rel
  for m in "${EXTRA_MODULES[@]}"; do
    while read -r kind path _; do
      [ "$kind" = insmod ] || continue
      rel=${path#"$KROOT/lib/modules/$KVER/"}
      grep -qxF "$rel" "$ROOT/etc/polyvisor/modules.list" && continue
      mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$rel")"
      cp "$path" "$ROOT/lib/modules/$KVER/$rel"
      echo "$rel" >> "$ROOT/etc/polyvisor/modules.list"
    done < <(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null || log "module $m not in $KVER")
  done
  depmod -b "$ROOT" "$KVER"

  # Hyper-V daemons (libc only).
  dpkg -x "$WORK"/dl/hyperv-daemons_*.deb "$WORK/hv"
  cp "$WORK"/hv/usr/sbin/hv_*_daemon "$ROOT/usr/sbin/"
  mkdir -p "$ROOT/usr/libexec/hypervkvpd"
  cp "$WORK"/hv/usr/libexec/hypervkvpd/* "$ROOT/usr/libexec/hypervkvpd/"

  # The CPUID / backdoor probe.
  gcc -static -O2 -Wall -o "$ROOT/usr/sbin/pv-cpuid" "$HERE/pv-cpuid.c"
  strip "$ROOT/usr/sbin/pv-cpuid"

  # SSH (dropbear: key-only, see rootfs/etc/init.d/rcS) and the firewall (nft), with their libraries.
  local bin
  for bin in /usr/sbin/dropbear /usr/bin/dropbearkey /usr/sbin/nft; do
    copy_with_libs "$bin" "$ROOT"
  done
  mkdir -p "$ROOT/root" "$ROOT/etc/dropbear"
  chmod 700 "$ROOT/root" "$ROOT/etc/dropbear"

  # The second opinion: systemd-detect-virt and the libraries it needs, in a
  # second initrd; rcS deletes the files the main one lacks after boot.
  local sdv lib
  sdv=$(command -v systemd-detect-virt)
  mkdir -p "$DIAG/usr/bin"
  cp "$sdv" "$DIAG/usr/bin/systemd-detect-virt"
  for lib in $(ldd "$sdv" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u); do
    mkdir -p "$DIAG$(dirname "$lib")"
    cp -L "$lib" "$DIAG$lib"
  done
  (cd "$DIAG" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do
    [ -e "$ROOT/$f" ] || echo "$f"
  done) > "$ROOT/etc/polyvisor/diag.list"

  cat > "$ROOT/etc/polyvisor/release" <<EOF
version=$VERSION
key=$KEY
kernel=$KVER
EOF
  cat > "$ROOT/etc/os-release" <<EOF
ID=polyvisor-appliance
NAME="Polyvisor appliance"
PRETTY_NAME="Polyvisor appliance $VERSION"
VERSION_ID=$VERSION
BUILD_ID=$KEY
EOF

  # Initramfs images: sorted, owned by root, timestamps SOURCE_DATE_EPOCH.
  pack() { # DIR -> stdout (newc)
    find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible)
  }
  newc_entry() { # name mode(hex) rdevmajor rdevminor ino: a header-only newc entry
    local name=$1 mode=$2 maj=$3 min=$4 ino=$5 namesize pad
    namesize=$((${#name} + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
      "$ino" "$((16#$mode))" 0 0 1 "$SOURCE_DATE_EPOCH" 0 0 0 "$maj" "$min" "$namesize" 0
    printf '%s\0' "$name"
    pad=$(((4 - (110 + namesize) % 4) % 4))
    [ "$pad" -gt 0 ] && head -c "$pad" /dev/zero
    return 0
  }
  log "packing initrd.img and diag.img"
  # The kernel reads concatenated archives: /dev/console is appended after cpio's own.
  { pack "$ROOT"; newc_entry dev/console 2180 5 1 999999; newc_entry 'TRAILER!!!' 0 0 0 0; } | gzip -9 -n > "$ESP/boot/initrd.img"
  pack "$DIAG" | gzip -9 -n > "$ESP/boot/diag.img"
  cp "$GUEST/vmlinuz" "$ESP/boot/vmlinuz"

  # GRUB: one grub.cfg on the ESP for both firmware kinds.
  cat > "$ESP/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout_style=hidden
set timeout=0
set default=0
menuentry 'Polyvisor appliance $VERSION' {
  linux /boot/vmlinuz $CMDLINE
  initrd /boot/initrd.img /boot/diag.img
}
menuentry 'Polyvisor appliance $VERSION (recovery: no guest tools)' {
  linux /boot/vmlinuz $CMDLINE pv.recovery=1
  initrd /boot/initrd.img
}
EOF
  printf 'search --no-floppy --fs-uuid --set=root %s\nset prefix=($root)/boot/grub\nconfigfile $prefix/grub.cfg\n' "$FAT_UUID" > "$WORK/early.cfg"
  local GRUB_MODS=(part_gpt fat normal linux configfile search search_fs_uuid serial terminal echo test)
  grub-mkimage -O i386-pc -o "$WORK/core.img" -c "$WORK/early.cfg" -p /boot/grub "${GRUB_MODS[@]}" biosdisk
  grub-mkimage -O x86_64-efi -o "$ESP/EFI/BOOT/BOOTX64.EFI" -c "$WORK/early.cfg" -p /boot/grub "${GRUB_MODS[@]}" efi_gop
  local core_sectors=$((($(stat -c %s "$WORK/core.img") + 511) / 512))
  [ "$core_sectors" -le "$BIOS_PART_SECTORS" ] || die "core.img ($core_sectors sectors) does not fit the BIOS boot partition"

  # The disk: GPT with fixed identifiers, FAT with a fixed serial and no clock.
  log "making disk.raw (${DISK_MIB} MiB: GPT, BIOS boot + ESP, GRUB for both)"
  local DISK="$STAGE/disk.raw"
  truncate -s "${DISK_MIB}M" "$DISK"
  sfdisk -q --no-reread --no-tell-kernel "$DISK" >&2 <<EOF
label: gpt
label-id: 504F4C59-5649-5345-5200-000000000001
start=$BIOS_PART_START, size=$BIOS_PART_SECTORS, type=21686148-6449-6E6F-744E-656564454649, uuid=504F4C59-5649-5345-5200-000000000002, name="bios"
start=$ESP_START, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=504F4C59-5649-5345-5200-000000000003, name="esp"
EOF
  local esp_sectors
  esp_sectors=$(sfdisk -d "$DISK" | sed -n 's/.*start= *'"$ESP_START"', size= *\([0-9]*\).*/\1/p')
  mkfs.vfat --invariant -F 16 -n POLYVISOR -i "$FAT_ID" --offset "$ESP_START" "$DISK" $((esp_sectors / 2)) >/dev/null
  export MTOOLS_SKIP_CHECK=1
  local IMG="$DISK@@$((ESP_START * 512))"
  find "$ESP" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  mmd -i "$IMG" ::/boot ::/boot/grub ::/EFI ::/EFI/BOOT
  (cd "$ESP" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do mcopy -m -i "$IMG" "$f" "::/$f"; done)
  # BIOS: GRUB's boot.img in the MBR (the partition table after byte 440 stays),
  # pointing at core.img in the BIOS boot partition; core.img's first sector
  # (diskboot) lists the sectors of the rest.
  dd if=/usr/lib/grub/i386-pc/boot.img of="$DISK" bs=440 count=1 conv=notrunc status=none
  python3 - "$DISK" "$WORK/core.img" "$BIOS_PART_START" <<'PY'
import struct, sys
disk, core, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = bytearray(open(core, 'rb').read())
n = (len(c) + 511) // 512
c += bytes(n * 512 - len(c))
struct.pack_into('<QH', c, 512 - 12, start + 1, n - 1)  # blocklist: the sectors after diskboot
with open(disk, 'r+b') as f:
    f.seek(0x5c)
    f.write(struct.pack('<Q', start))                  # boot.img: where core.img starts
    f.seek(start * 512)
    f.write(c)
PY
  # Timestamps the FAT records itself (the volume label entry) come from --invariant.

  local sha_raw
  sha_raw=$(sha256sum "$DISK" | cut -d' ' -f1)
  cat > "$STAGE/manifest.json" <<EOF
{
  "key": "$KEY",
  "version": "$VERSION",
  "sourceDateEpoch": $SOURCE_DATE_EPOCH,
  "guestKey": "$GUEST_KEY",
  "kernelVersion": "$KVER",
  "kernelPackage": "$KPKG=$KPKG_VERSION",
  "hypervDaemons": "$HV_VERSION",
  "readyLine": "POLYVISOR-APPLIANCE-READY",
  "platformLine": "POLYVISOR-PLATFORM",
  "initrdBytes": $(stat -c %s "$ESP/boot/initrd.img"),
  "diagBytes": $(stat -c %s "$ESP/boot/diag.img"),
  "buildSeconds": $(($(date +%s) - START)),
  "sha256": { "disk.raw": "$sha_raw" }
}
EOF
  chmod 644 "$STAGE"/*
  rm -rf -- "$BUILD"
  mv -T "$STAGE" "$BUILD"
  rm -rf -- "$WORK"
  trap - EXIT
}

mkdir -p "$CACHE_ROOT"
if ! complete "$BUILD"; then
  exec 9>"$CACHE_ROOT/.lock"
  flock 9
  if ! complete "$BUILD"; then
    rm -rf -- "$CACHE_ROOT"/.build-*
    build_image
  fi
  exec 9>&-
fi
set_current
log "image: $BUILD"
if [ -z "$OUT_DIR" ]; then
  echo "$BUILD"
  exit 0
fi
exec bash "$HERE/export.sh" "$BUILD" "$OUT_DIR" "$FORMATS"
