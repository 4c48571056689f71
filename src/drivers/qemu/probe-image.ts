/**
 * The accelerator probe guest: the 512-byte boot sector assembled from
 * probe-boot.S (stage markers R, P, M, C, then "LPV-PROBE-OK"). Stored as hex of
 * the code part; the rest of the sector is zeros and the 0x55aa signature.
 */
const CODE_HEX =
  'fa31c08ed88ec08ed0bc007cbaf803b052eee4920c02e692660f0116087d0f20' +
  'c06683c8010f22c066ea307c0000080066b810008ed88ec08ed066baf803b050' +
  'eebf00001000b900000001b85a5a5a5afcf3ab66baf803b04deebf0010000031' +
  'c0b9000c0000f3abc7050010000003200000c7050020000003300000c7050030' +
  '000083000000b8001000000f22d80f20e083c8200f22e0b9800000c00f320d00' +
  '0100000f300f20c00d000000800f22c0eab77c0000180066baf803b043ee31c0' +
  '31d231db31c9bf10300000f0480fc70f66baf803488d3533000000ac84c07403' +
  'eeebf8faf4ebfc900000000000000000ffff0000009acf00ffff00000092cf00' +
  'ffff0000009aaf001f00e87c00004c50562d50524f42452d4f4b0d0a';

export const PROBE_DONE = 'PV-PROBE-OK';

/** Stages in the order the probe guest prints them. */
export const PROBE_STAGES = [
  ['R', 'firmware and real mode'],
  ['P', 'protected mode'],
  ['M', 'writing 64 MiB of guest RAM'],
  ['C', '64-bit long mode'],
  ['L', 'a locked 16-byte compare-and-swap on a live page table (emulated by nested KVM on shadow paging)'],
] as const;

export function probeBootSector(): Buffer {
  const sector = Buffer.alloc(512);
  Buffer.from(CODE_HEX, 'hex').copy(sector);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}
