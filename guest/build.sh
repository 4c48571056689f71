#!/usr/bin/env bash
# Build the Polyvisor test guest (kernel + busybox initramfs + hybrid BIOS/UEFI
# disk image) into a content-addressed cache directory.
#
#   guest/build.sh            -> prints the artifact directory as the LAST stdout line
#
# Environment:
#   POLYVISOR_GUEST_CACHE   cache root (default: $HOME/.cache/polyvisor/guest)
#
# Progress goes to stderr. Safe to run twice and concurrently (flock).
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${POLYVISOR_GUEST_CACHE:-${HOME:-/root}/.cache/polyvisor/guest}
CMDLINE="console=ttyS0,115200 panic=-1 quiet"
READY_LINE="POLYVISOR-GUEST-READY"
DISK_MIB=64
KERNEL_META=linux-image-cloud-amd64
# Modules wanted in the guest; dependencies are resolved with modprobe.
WANT_MODULES=(
  virtio_pci virtio_blk virtio_net virtio_console virtio_scsi virtio_balloon virtio_rng
  button evdev qemu_fw_cfg
  ata_piix ata_generic ahci sd_mod sr_mod cdrom isofs
  vfat nls_cp437 nls_iso8859_1 nls_utf8
)
# Files under guest/ that the build uses (all hashed into the cache key).
INPUT_FILES=(build.sh memtest.c)
while IFS= read -r f; do INPUT_FILES+=("$f"); done < <(cd "$GUEST_DIR" && find rootfs -type f | LC_ALL=C sort)

log() { printf '[guest] %s\n' "$*" >&2; }
die() { printf '[guest] ERROR: %s\n' "$*" >&2; exit 1; }

export PATH="$PATH:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
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
pkg_version() { dpkg-query -W -f='${Version}' "$1"; }

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

ensure_packages busybox-static qemu-guest-agent cpio gzip gcc libc6-dev binutils \
  syslinux syslinux-common mtools dosfstools fdisk systemd-boot-efi kmod

# The kernel package that linux-image-cloud-amd64 depends on, and its version
# (one apt-cache call: the meta package pins it with "(= VERSION)").
kernel_package() {
  apt-cache show --no-all-versions "$KERNEL_META" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1 |
    tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\)\( *(= *\([^)]*\))\)\{0,1\}.*/\1 \3/p' | head -n1
}
KDEP=$(kernel_package || true)
if [ -z "$KDEP" ]; then
  apt_update_once
  KDEP=$(kernel_package || true)
fi
[ -n "$KDEP" ] || die "cannot resolve the package behind $KERNEL_META"
KPKG=${KDEP%% *}
KPKG_VERSION=${KDEP#"$KPKG"}
KPKG_VERSION=${KPKG_VERSION# }
if [ -z "$KPKG_VERSION" ]; then
  KPKG_VERSION=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
fi
[ -n "$KPKG_VERSION" ] || die "no candidate version for $KPKG"
BB_VERSION=$(pkg_version busybox-static)
QGA_VERSION=$(pkg_version qemu-guest-agent)

# --------------------------------------------------------------- cache key --
files_hash=$(cd "$GUEST_DIR" && sha256sum -- "${INPUT_FILES[@]}")
KEY=$(printf 'kernel=%s=%s\nbusybox=%s\nqga=%s\n%s\n' "$KPKG" "$KPKG_VERSION" "$BB_VERSION" \
  "$QGA_VERSION" "$files_hash" | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/$KEY"

manifest_complete() {
  local d=$1 f
  [ -s "$d/manifest.json" ] || return 1
  grep -q "\"key\": \"$KEY\"" "$d/manifest.json" || return 1
  for f in vmlinuz initrd.img disk.raw; do [ -s "$d/$f" ] || return 1; done
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

# Serialize concurrent builds; re-check once we hold the lock.
exec 9>"$CACHE_ROOT/.lock"
flock 9
if manifest_complete "$OUT"; then
  set_current
  log "built by a concurrent run: $OUT"
  echo "$OUT"
  exit 0
fi

# Holding the lock, any leftover build directory is from a killed run.
rm -rf -- "$CACHE_ROOT"/.build-*

log "building guest $KEY (kernel $KPKG $KPKG_VERSION, busybox $BB_VERSION, qemu-ga $QGA_VERSION)"
WORK=$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")
cleanup() { rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
STAGE="$WORK/out"
mkdir -p "$STAGE"

# ------------------------------------------------------------------ kernel --
log "downloading $KPKG=$KPKG_VERSION with apt-get download"
mkdir -p "$WORK/dl"
chmod 755 "$WORK" "$WORK/dl"
(cd "$WORK/dl" && apt-get "${APT_OPTS[@]}" download "$KPKG=$KPKG_VERSION" >&2) || {
  apt_update_once
  (cd "$WORK/dl" && apt-get "${APT_OPTS[@]}" download "$KPKG=$KPKG_VERSION" >&2)
}
KROOT="$WORK/kernel"
dpkg -x "$WORK"/dl/*.deb "$KROOT"
KVER=$(find "$KROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | head -n1)
[ -n "$KVER" ] || die "no modules directory in $KPKG"
cp "$KROOT/boot/vmlinuz-$KVER" "$STAGE/vmlinuz"
log "kernel $KVER"

# Decompress modules if the kernel ships them compressed (busybox insmod
# cannot read zstd), then compute dependencies with kmod.
find "$KROOT/lib/modules/$KVER" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
find "$KROOT/lib/modules/$KVER" -name '*.ko.zst' -exec sh -c 'for f; do zstd -q -d --rm "$f"; done' sh {} + ||
  { [ -z "$(find "$KROOT/lib/modules/$KVER" -name '*.ko.zst' | head -n1)" ] || die "zstd modules need the zstd package"; }
find "$KROOT/lib/modules/$KVER" -name '*.ko.gz' -exec gzip -d {} + 2>/dev/null || true
depmod -b "$KROOT" "$KVER"

# -------------------------------------------------------------- initramfs --
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc/polyvisor,dev,proc,sys,run,tmp,root,www,mnt,var/log,lib64}
mkdir -p "$ROOT/lib/modules/$KVER"
ln -s ../run "$ROOT/var/run"
chmod 1777 "$ROOT/tmp"

# busybox and its applet links (never overriding our own scripts)
cp /bin/busybox "$ROOT/bin/busybox"
while IFS= read -r applet; do
  [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] && continue
  mkdir -p "$ROOT/$(dirname "$applet")"
  ln -s /bin/busybox "$ROOT/$applet"
done < <(/bin/busybox --list-full | grep -v '^linuxrc$')
ln -s bin/busybox "$ROOT/init"

# our files
cp -a "$GUEST_DIR/rootfs/." "$ROOT/"
chmod 755 "$ROOT/etc/init.d/"* "$ROOT/sbin/"* "$ROOT/etc/acpi/PWRF/"* "$ROOT/usr/share/udhcpc/"*

# memtest (static C)
log "compiling memtest"
gcc -static -O2 -Wall -o "$ROOT/usr/bin/memtest" "$GUEST_DIR/memtest.c"
strip "$ROOT/usr/bin/memtest"

# qemu-ga plus its shared libraries and the dynamic loader
QGA_BIN=$(command -v qemu-ga || echo /usr/sbin/qemu-ga)
cp "$QGA_BIN" "$ROOT/usr/sbin/qemu-ga"
ldd "$QGA_BIN" | awk '/=> \//{print $3} /^\t\/[^ ]+ \(/{print $1}' | sort -u | while read -r lib; do
  mkdir -p "$ROOT$(dirname "$lib")"
  cp -L "$lib" "$ROOT$lib"
done
mkdir -p "$ROOT/etc/qemu"

# kernel modules in dependency order
: > "$ROOT/etc/polyvisor/modules.list"
declare -A seen=()
for m in "${WANT_MODULES[@]}"; do
  deps=$(modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" 2>/dev/null) || {
    log "module $m not available in $KVER (skipped)"
    continue
  }
  while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    rel=${path#"$KROOT/lib/modules/$KVER/"}
    [ -n "${seen[$rel]:-}" ] && continue
    seen[$rel]=1
    mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$rel")"
    cp "$path" "$ROOT/lib/modules/$KVER/$rel"
    echo "$rel" >> "$ROOT/etc/polyvisor/modules.list"
  done <<< "$deps"
done
cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$ROOT" "$KVER"
log "modules: $(tr '\n' ' ' < "$ROOT/etc/polyvisor/modules.list" | sed 's|[^ ]*/||g')"

cat > "$ROOT/etc/polyvisor/release" <<EOF
key=$KEY
kernel=$KVER
kernelPackage=$KPKG=$KPKG_VERSION
busybox=$BB_VERSION
qga=$QGA_VERSION
EOF
cat > "$ROOT/etc/os-release" <<EOF
ID=polyvisor-guest
NAME="Polyvisor test guest"
PRETTY_NAME="Polyvisor test guest ($KEY)"
VERSION_ID=$KEY
EOF

# newc archive; /dev/console is appended as a hand-made newc entry so the
# build needs no mknod (the kernel opens it before /init runs).
newc_entry() { # name mode(hex) rdevmajor rdevminor ino
  local name=$1 mode=$2 maj=$3 min=$4 ino=$5 namesize
  namesize=$((${#name} + 1))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$ino" "$((16#$mode))" 0 0 1 0 0 0 0 "$maj" "$min" "$namesize" 0
  printf '%s\0' "$name"
  # header (110 bytes) + name padded to a multiple of 4
  local pad=$(((4 - (110 + namesize) % 4) % 4))
  [ "$pad" -gt 0 ] && head -c "$pad" /dev/zero
  return 0
}
log "packing initrd.img"
{
  (cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible)
  newc_entry dev/console 2180 5 1 999999
  newc_entry TRAILER!!! 0 0 0 0
} | gzip -9 -n > "$STAGE/initrd.img"

# ------------------------------------------------- UEFI unified kernel image --
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -r "$STUB" ] || die "missing $STUB (systemd-boot-efi)"
printf '%s' "$CMDLINE" > "$WORK/cmdline.txt"
cp "$ROOT/etc/os-release" "$WORK/os-release"
# place the new sections after the stub's last section, 4 KiB aligned
align() { echo $(((($1) + 4095) / 4096 * 4096)); }
stub_end=0
while read -r idx name size vma _; do
  [[ "$idx" =~ ^[0-9]+$ ]] || continue
  end=$((16#$vma + 16#$size))
  [ "$end" -gt "$stub_end" ] && stub_end=$end
done < <(objdump -h "$STUB")
osrel_vma=$(align "$stub_end")
cmdline_vma=$(align "$osrel_vma + $(stat -c %s "$WORK/os-release")")
linux_vma=$(align "$cmdline_vma + $(stat -c %s "$WORK/cmdline.txt")")
initrd_vma=$(align "$linux_vma + $(stat -c %s "$STAGE/vmlinuz")")
objcopy \
  --add-section .osrel="$WORK/os-release" --change-section-vma .osrel="$(printf 0x%x "$osrel_vma")" \
  --add-section .cmdline="$WORK/cmdline.txt" --change-section-vma .cmdline="$(printf 0x%x "$cmdline_vma")" \
  --add-section .linux="$STAGE/vmlinuz" --change-section-vma .linux="$(printf 0x%x "$linux_vma")" \
  --add-section .initrd="$STAGE/initrd.img" --change-section-vma .initrd="$(printf 0x%x "$initrd_vma")" \
  "$STUB" "$WORK/BOOTX64.EFI"

# ------------------------------------------------ hybrid BIOS + UEFI disk --
log "making disk.raw (${DISK_MIB} MiB, MBR, FAT partition type 0xEF, syslinux + UKI)"
DISK="$STAGE/disk.raw"
PART_START=2048
truncate -s "${DISK_MIB}M" "$DISK"
printf 'label: dos\nlabel-id: 0x504f4c59\nstart=%d, type=ef, bootable\n' "$PART_START" | sfdisk -q --no-reread --no-tell-kernel "$DISK" >&2
PART_SECTORS=$(($(stat -c %s "$DISK") / 512 - PART_START))
mkfs.vfat -F 16 -n POLYVISOR -i 504f4c59 --offset "$PART_START" "$DISK" $((PART_SECTORS / 2)) >/dev/null
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
dd if="$MBR_BIN" of="$DISK" bs=440 count=1 conv=notrunc status=none
syslinux --install --offset $((PART_START * 512)) "$DISK"
cat > "$WORK/syslinux.cfg" <<EOF
DEFAULT polyvisor
PROMPT 0
TIMEOUT 0
LABEL polyvisor
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND $CMDLINE
EOF
export MTOOLS_SKIP_CHECK=1
IMG="$DISK@@$((PART_START * 512))"
mcopy -i "$IMG" "$WORK/syslinux.cfg" "$STAGE/vmlinuz" "$STAGE/initrd.img" ::/
mmd -i "$IMG" ::/EFI ::/EFI/BOOT
mcopy -i "$IMG" "$WORK/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI

# ---------------------------------------------------------------- manifest --
sha() { sha256sum "$STAGE/$1" | cut -d' ' -f1; }
cat > "$STAGE/manifest.json" <<EOF
{
  "key": "$KEY",
  "kernelVersion": "$KVER",
  "kernelPackage": "$KPKG",
  "kernelPackageVersion": "$KPKG_VERSION",
  "busyboxVersion": "$BB_VERSION",
  "qgaVersion": "$QGA_VERSION",
  "readyLine": "$READY_LINE",
  "poweroffLine": "POLYVISOR-GUEST-POWEROFF",
  "cmdline": "$CMDLINE",
  "files": { "kernel": "vmlinuz", "initrd": "initrd.img", "disk": "disk.raw" },
  "sha256": {
    "vmlinuz": "$(sha vmlinuz)",
    "initrd.img": "$(sha initrd.img)",
    "disk.raw": "$(sha disk.raw)"
  }
}
EOF
chmod 644 "$STAGE"/*

# ------------------------------------------------------------- publish it --
if [ -e "$OUT" ]; then
  # a stale or incomplete directory (not produced by this script's mv)
  rm -rf -- "$OUT"
fi
mv -T "$STAGE" "$OUT"
set_current
log "done: $OUT ($(du -sh "$OUT" | cut -f1); initrd $(stat -c %s "$OUT/initrd.img") bytes)"
echo "$OUT"
