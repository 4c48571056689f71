#!/usr/bin/env bash
# Write a built appliance (guest/appliance/build.sh) in the formats asked for,
# with SHA256SUMS. Called by build.sh --out; not meant to be run alone.
#
#   export.sh BUILD_DIR OUT_DIR FORMATS
#
# Files: polyvisor-appliance-VERSION.{qcow2,raw,vdi,vhdx,vmdk,vpc},
# polyvisor-appliance-VERSION-stream.vmdk (streamOptimized) and
# polyvisor-appliance-VERSION.ova (OVF 1.0 + manifest + streamOptimized VMDK).
# qemu-img writes random identifiers and the clock into VDI, VHDX, VMDK and VPC;
# pin-ids.py replaces them with values derived from the version and
# SOURCE_DATE_EPOCH, so the same inputs give the same SHA256SUMS.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$1 OUT=$2 FORMATS=$3
log() { printf '[appliance] %s\n' "$*" >&2; }
die() { printf '[appliance] ERROR: %s\n' "$*" >&2; exit 1; }
export TZ=UTC LC_ALL=C

manifest() { sed -n "s/^  \"$1\": \"\\{0,1\\}\\([^\",]*\\)\"\\{0,1\\},\\{0,1\\}\$/\\1/p" "$BUILD/manifest.json" | head -n1; }
VERSION=$(manifest version)
KEY=$(manifest key)
EPOCH=$(manifest sourceDateEpoch)
[ -n "$VERSION" ] && [ -n "$KEY" ] && [ -n "$EPOCH" ] || die "incomplete manifest in $BUILD"
export SOURCE_DATE_EPOCH=$EPOCH
SEED="polyvisor-appliance/$VERSION/$KEY"
BASE="polyvisor-appliance-$VERSION"
RAW="$BUILD/disk.raw"

mkdir -p -- "$OUT"
OUT=$(cd -- "$OUT" && pwd)
TMP=$(mktemp -d "$OUT/.appliance-export.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

convert() { # FORMAT FILE [qemu-img -o options]
  local fmt=$1 file=$2 opts=${3:-}
  # Converted in place under its final name: a VMDK names its extent file.
  (cd "$TMP" && qemu-img convert -f raw -O "$fmt" ${opts:+-o "$opts"} "$RAW" "$file")
  case "$fmt" in vdi | vhdx | vmdk | vpc) python3 "$HERE/pin-ids.py" "$fmt" "$TMP/$file" "$SEED" ;; esac
  touch -d "@$SOURCE_DATE_EPOCH" "$TMP/$file"
}

ovf() { # DIR VMDK_FILE -> OVF 1.0 descriptor on stdout
  local vmdk=$2 size capacity
  size=$(stat -c %s "$1/$vmdk")
  capacity=$(stat -c %s "$RAW")
  cat <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
    <File ovf:id="file1" ovf:href="$vmdk" ovf:size="$size"/>
  </References>
  <DiskSection>
    <Info>Virtual disks</Info>
    <Disk ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:capacity="$capacity" ovf:capacityAllocationUnits="byte" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>Logical networks</Info>
    <Network ovf:name="default">
      <Description>The network the appliance's first NIC joins (DHCP)</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="$BASE">
    <Info>Polyvisor appliance $VERSION</Info>
    <Name>$BASE</Name>
    <OperatingSystemSection ovf:id="101">
      <Info>Guest operating system</Info>
      <Description>Other Linux (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>1 vCPU, 128 MiB, one disk, one NIC; boots under BIOS or UEFI</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>$BASE</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-10</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of virtual CPUs</rasd:Description>
        <rasd:ElementName>1 virtual CPU</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>1</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory size</rasd:Description>
        <rasd:ElementName>128 MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>128</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>IDE Controller</rasd:Description>
        <rasd:ElementName>ideController0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceType>5</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AddressOnParent>0</rasd:AddressOnParent>
        <rasd:ElementName>disk0</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>default</rasd:Connection>
        <rasd:ElementName>ethernet0</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID>
        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
      </Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
}

FILES=()
IFS=, read -r -a LIST <<< "$FORMATS"
for f in "${LIST[@]}"; do
  log "writing $f"
  case "$f" in
    raw) cp "$RAW" "$TMP/$BASE.raw" && touch -d "@$SOURCE_DATE_EPOCH" "$TMP/$BASE.raw" && FILES+=("$BASE.raw") ;;
    qcow2) convert qcow2 "$BASE.qcow2" && FILES+=("$BASE.qcow2") ;;
    vdi) convert vdi "$BASE.vdi" && FILES+=("$BASE.vdi") ;;
    vhdx) convert vhdx "$BASE.vhdx" && FILES+=("$BASE.vhdx") ;;
    vpc) convert vpc "$BASE.vhd" && FILES+=("$BASE.vhd") ;;
    vmdk) convert vmdk "$BASE.vmdk" subformat=monolithicSparse && FILES+=("$BASE.vmdk") ;;
    vmdk-stream) convert vmdk "$BASE-stream.vmdk" subformat=streamOptimized && FILES+=("$BASE-stream.vmdk") ;;
    ova)
      mkdir -p "$TMP/ova"
      (cd "$TMP/ova" && qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$RAW" "$BASE-disk1.vmdk")
      python3 "$HERE/pin-ids.py" vmdk "$TMP/ova/$BASE-disk1.vmdk" "$SEED"
      ovf "$TMP/ova" "$BASE-disk1.vmdk" > "$TMP/ova/$BASE.ovf"
      (cd "$TMP/ova" && for x in "$BASE.ovf" "$BASE-disk1.vmdk"; do
        printf 'SHA256(%s)= %s\n' "$x" "$(sha256sum "$x" | cut -d' ' -f1)"
      done > "$BASE.mf")
      touch -d "@$SOURCE_DATE_EPOCH" "$TMP/ova"/*
      # OVF first, then the manifest, then the disk (OVF 1.0, section 5.3).
      (cd "$TMP/ova" && tar --format=ustar --owner=0 --group=0 --numeric-owner --mode=0644 \
        -cf "$TMP/$BASE.ova" "$BASE.ovf" "$BASE.mf" "$BASE-disk1.vmdk")
      rm -rf "$TMP/ova"
      touch -d "@$SOURCE_DATE_EPOCH" "$TMP/$BASE.ova"
      FILES+=("$BASE.ova")
      ;;
    *) die "unknown format '$f'" ;;
  esac
done
# Publish the files, then SHA256SUMS of them.
for x in "${FILES[@]}"; do
  chmod 644 "$TMP/$x"
  mv -f "$TMP/$x" "$OUT/$x"
done
(cd "$OUT" && sha256sum -- "${FILES[@]}" > SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
log "wrote ${#FILES[@]} file(s) to $OUT"
echo "$OUT"
