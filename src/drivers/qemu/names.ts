/**
 * QEMU ids derived from spec names. Block node names must start with a letter
 * and fit in 31 characters; disk names may be 63 long and start with a digit,
 * so long names are shortened with a hash. Snapshot and backup code finds a
 * disk's nodes through diskNodes(), never by rebuilding the strings.
 */
import { createHash } from 'node:crypto';

const MAX_TOKEN = 26; // "disk-" + token <= 31 characters

function token(name: string): string {
  if (name.length <= MAX_TOKEN) return name;
  const h = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_TOKEN - 9)}-${h}`;
}

export interface DiskNodes {
  /** Protocol (file) node. */
  file: string;
  /** Format node the device is attached to. */
  format: string;
  /** qdev id of the guest device. */
  device: string;
  /** Id of the secret object holding an encrypted disk's passphrase. */
  secret: string;
}

export function diskNodes(diskName: string): DiskNodes {
  const t = token(diskName);
  return { file: `file-${t}`, format: `disk-${t}`, device: `dev-${t}`, secret: `key-${t}` };
}

export function netIds(netName: string): { netdev: string; device: string } {
  const t = token(netName);
  return { netdev: `net-${t}`, device: `nic-${t}` };
}

export { stableMac } from '../nic-mac.js';
