/**
 * NoCloud seed: meta-data, user-data and network-config from the spec's
 * `cloudInit`, in an ISO 9660 image labelled "cidata" (what cloud-init's
 * NoCloud datasource looks for). Built with xorriso (or genisoimage), argv
 * arrays only; the files' contents never reach a command line.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PolyvisorError, fail, run } from '../../shared/index.js';
import type { CloudInitSpec } from '../../spec/index.js';
import { writeViaTemp } from '../temp-output.js';

export interface SeedFiles {
  'meta-data': string;
  'user-data': string;
  'network-config': string;
}

/**
 * The default network-config: DHCP on each NIC, found by its MAC and named eth0, eth1… in the spec's
 * order (version 1, as Proxmox VE writes it). Every cloud-init renderer understands it (Debian's
 * ifupdown one ignores a version 2 `match: name:` glob).
 */
export function defaultNetworkConfig(macs: readonly string[]): string {
  if (!macs.length) return 'version: 1\nconfig: []\n';
  const nics = macs.map((mac, i) => `  - type: physical\n    name: eth${i}\n    mac_address: "${mac}"\n    subnets:\n      - type: dhcp\n`);
  return `version: 1\nconfig:\n${nics.join('')}`;
}

/** The three files, as text. Pure. `macs`: the VM's NICs' MAC addresses, in the spec's order. */
export function seedFiles(ci: CloudInitSpec, vm: { name: string; id: string; macs: readonly string[] }): SeedFiles {
  const hostname = ci.hostname ?? vm.name;
  const metaData = `instance-id: ${ci.instanceId ?? vm.id}\nlocal-hostname: ${hostname}\n`;
  const keys = ci.sshAuthorizedKeys.map((k) => `  - ${JSON.stringify(k)}\n`).join('');
  const userData = ci.userData ?? `#cloud-config\nhostname: ${hostname}\n${keys ? `ssh_authorized_keys:\n${keys}` : ''}`;
  const networkConfig = ci.networkConfig ?? defaultNetworkConfig(vm.macs);
  return { 'meta-data': metaData, 'user-data': userData, 'network-config': networkConfig };
}

/** ISO tools in order of preference, with the argv that makes a Joliet + Rock Ridge image labelled `label`. */
const TOOLS: ReadonlyArray<{ bin: string; args: (out: string, label: string, dir: string) => string[] }> = [
  { bin: 'xorriso', args: (out, label, dir) => ['-as', 'mkisofs', '-quiet', '-output', out, '-volid', label, '-joliet', '-rock', dir] },
  { bin: 'genisoimage', args: (out, label, dir) => ['-quiet', '-output', out, '-volid', label, '-joliet', '-rock', dir] },
];

export interface BuildSeedOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Writes the seed ISO to `dest` (replacing an older one), complete or not at all. */
export async function buildSeedIso(dest: string, files: SeedFiles, o: BuildSeedOptions = {}): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pv-cidata-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text, { mode: 0o600 });
    await writeViaTemp(dest, { overwrite: true }, async (tmp) => {
      for (const tool of TOOLS) {
        let r;
        try {
          r = await run(tool.bin, tool.args(tmp, 'cidata', dir), { timeoutMs: o.timeoutMs ?? 30_000, ...(o.signal ? { signal: o.signal } : {}), missingCode: 'ISO_TOOL_MISSING' });
        } catch (err) {
          if (err instanceof PolyvisorError && err.code === 'ISO_TOOL_MISSING') continue;
          throw err;
        }
        if (r.code !== 0) fail('DISK_CREATE_FAILED', `${tool.bin} could not build the cloud-init seed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
        return;
      }
      fail('ISO_TOOL_MISSING', `neither ${TOOLS.map((t) => t.bin).join(' nor ')} is installed`);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
