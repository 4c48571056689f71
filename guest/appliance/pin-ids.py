#!/usr/bin/env python3
"""Make qemu-img's output reproducible: replace the random identifiers and
creation timestamps that qemu-img (7.2) writes into VDI, VHDX, VMDK and VPC
images with values derived from a seed (and SOURCE_DATE_EPOCH), fixing the
checksums that cover them. qcow2 and raw have none.

    pin-ids.py FORMAT FILE SEED      (FORMAT: vdi vhdx vmdk vpc)

Measured by converting the same raw image twice: the bytes that differ are
exactly the fields this script writes (guest/appliance/README.md).
"""
import hashlib
import os
import re
import struct
import sys


def derived(seed: str, label: str, n: int = 16) -> bytes:
    return hashlib.sha256(f"{seed}/{label}".encode()).digest()[:n]


def crc32c(data: bytes) -> int:
    table = crc32c.table  # type: ignore[attr-defined]
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc_table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.table = _crc_table()  # type: ignore[attr-defined]


def pin_vdi(f, seed):
    f.seek(64)
    if struct.unpack("<I", f.read(4))[0] != 0xBEDA107F:
        raise SystemExit("not a VDI image")
    f.seek(392)  # uuid_image, uuid_last_snap (uuid_link and uuid_parent stay zero)
    f.write(derived(seed, "vdi-image") + derived(seed, "vdi-last-snap"))


VHDX_METADATA_REGION = bytes.fromhex("06a27c8b90479a4bb8fe575f050f886e")
VHDX_PAGE83 = bytes.fromhex("ab12cabee6b2234593efc309e000c746")


def pin_vhdx(f, seed):
    f.seek(0)
    if f.read(8) != b"vhdxfile":
        raise SystemExit("not a VHDX image")
    headers = []
    for off in (64 * 1024, 128 * 1024):
        f.seek(off)
        h = bytearray(f.read(4096))
        if h[:4] != b"head":
            raise SystemExit("VHDX header missing")
        headers.append((off, h))
    seqs = [struct.unpack_from("<Q", h, 8)[0] for _, h in headers]
    low = min(seqs)
    log_offset = log_length = 0
    for (off, h), seq in zip(headers, seqs):
        struct.pack_into("<Q", h, 8, 1 + seq - low)  # keep which header is current
        h[16:32] = derived(seed, "vhdx-file-write")
        h[32:48] = derived(seed, "vhdx-data-write")
        if h[48:64] != bytes(16):
            raise SystemExit("VHDX log in use; refusing to pin")
        log_length = struct.unpack_from("<I", h, 68)[0]
        log_offset = struct.unpack_from("<Q", h, 72)[0]
        struct.pack_into("<I", h, 4, 0)
        struct.pack_into("<I", h, 4, crc32c(bytes(h)))
        f.seek(off)
        f.write(h)
    # The log is inactive (LogGuid zero): its stale entries are ignored by readers; clear them.
    if log_length:
        f.seek(log_offset)
        f.write(bytes(log_length))
    # Region table -> metadata region -> Page83Data (the disk's identifier).
    f.seek(192 * 1024)
    rt = f.read(64 * 1024)
    count = struct.unpack_from("<I", rt, 8)[0]
    meta_off = None
    for i in range(count):
        e = 16 + 32 * i
        if rt[e:e + 16] == VHDX_METADATA_REGION:
            meta_off = struct.unpack_from("<Q", rt, e + 16)[0]
    if meta_off is None:
        raise SystemExit("VHDX metadata region missing")
    f.seek(meta_off)
    mt = f.read(64 * 1024)
    if mt[:8] != b"metadata":
        raise SystemExit("VHDX metadata table missing")
    n = struct.unpack_from("<H", mt, 10)[0]
    for i in range(n):
        e = 32 + 32 * i
        if mt[e:e + 16] == VHDX_PAGE83:
            item = struct.unpack_from("<I", mt, e + 16)[0]
            f.seek(meta_off + item)
            f.write(derived(seed, "vhdx-page83"))


def pin_vmdk(f, seed):
    f.seek(0)
    head = f.read(512)
    if head[:4] != b"KDMV":
        raise SystemExit("not a VMDK image")
    # The descriptor (text, zero-padded) lives in its own sectors; qemu-img prints
    # CID with %x, so its length varies: rewrite the text and pad it again.
    desc_sector, desc_sectors = struct.unpack_from("<QQ", head, 28)
    f.seek(desc_sector * 512)
    area = f.read(desc_sectors * 512)
    text = area.split(b"\0", 1)[0]
    cid = derived(seed, "vmdk-cid", 4).hex().encode()
    text, n = re.subn(rb"(?m)^CID=[0-9a-f]+$", b"CID=" + cid, text)
    if n != 1 or len(text) > len(area):
        raise SystemExit("VMDK descriptor without one CID line")
    f.seek(desc_sector * 512)
    f.write(text + bytes(len(area) - len(text)))


def vpc_checksum(footer: bytearray) -> None:
    struct.pack_into(">I", footer, 64, 0)
    struct.pack_into(">I", footer, 64, (~sum(footer)) & 0xFFFFFFFF)


def pin_vpc(f, seed):
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "946684800"))
    f.seek(0, 2)
    size = f.tell()
    for off in (0, size - 512):
        f.seek(off)
        footer = bytearray(f.read(512))
        if footer[:8] != b"conectix":
            if off == 0:
                continue  # a fixed VHD has the footer only at the end
            raise SystemExit("not a VPC image")
        struct.pack_into(">I", footer, 24, max(0, epoch - 946684800))
        footer[68:84] = derived(seed, "vpc-uuid")
        vpc_checksum(footer)
        f.seek(off)
        f.write(footer)


def main(argv):
    if len(argv) != 4:
        raise SystemExit(__doc__)
    fmt, path, seed = argv[1], argv[2], argv[3]
    fns = {"vdi": pin_vdi, "vhdx": pin_vhdx, "vmdk": pin_vmdk, "vpc": pin_vpc}
    if fmt not in fns:
        raise SystemExit(f"no identifiers to pin in {fmt}")
    with open(path, "r+b") as f:
        fns[fmt](f, seed)


if __name__ == "__main__":
    main(sys.argv)
