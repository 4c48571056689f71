/** `vm create --network NAME[,model=M][,mac=MAC][,ip=IP]`: one NIC on a virtual network per flag. */
import { fail } from '../shared/index.js';

const KEYS = new Set(['model', 'mac', 'ip']);

/** The spec NIC a --network flag asks for (the daemon validates the values). */
export function nicFromFlag(flag: string, index: number): Record<string, string> {
  const [network, ...rest] = flag.split(',');
  if (!network) fail('INVALID_ARGUMENT', `--network ${JSON.stringify(flag)} must look like NAME[,model=virtio|e1000][,mac=MAC][,ip=IP]`);
  const nic: Record<string, string> = { name: `net${index}`, network };
  for (const kv of rest) {
    const i = kv.indexOf('=');
    const key = kv.slice(0, i);
    if (i <= 0 || !KEYS.has(key)) fail('INVALID_ARGUMENT', `--network ${JSON.stringify(flag)}: "${kv}" is not model=M, mac=MAC or ip=IP`);
    nic[key] = kv.slice(i + 1);
  }
  return nic;
}
