/**
 * Per-NIC byte and packet counters of a running VM. User-mode (slirp) NICs
 * keep no counters that QMP reports, so they come from the guest agent's
 * `guest-network-get-interfaces` (its `statistics`, QEMU ≥ 2.11), matched to
 * the spec's NICs by MAC address. Counters are the guest's view: rx is what
 * the guest received. A guest whose agent does not answer has none, and is
 * not asked again for a while, so a scrape never keeps paying its timeout.
 */
import { GuestAgentClient } from '../../qmp/index.js';
import type { VmSpec } from '../../spec/index.js';
import type { NicCounters } from '../stats.js';
import { stableMac } from './names.js';

/** How long one stats call gives the agent (connect + sync + command). */
const AGENT_STATS_TIMEOUT_MS = 750;
/** After the agent did not answer, how long before it is asked again. */
const RETRY_AFTER_MS = 30_000;

export interface GuestInterface {
  name: string;
  'hardware-address'?: string;
  statistics?: { 'rx-bytes': number; 'rx-packets': number; 'tx-bytes': number; 'tx-packets': number };
}

/** Matches the guest's interfaces to the spec's NICs by MAC; NICs the guest does not show are left out. */
export function nicCountersOf(spec: VmSpec, vmId: string, ifaces: readonly GuestInterface[]): NicCounters[] {
  const out: NicCounters[] = [];
  for (const n of spec.networks) {
    const mac = (n.mac ?? stableMac(vmId, n.name)).toLowerCase();
    const s = ifaces.find((i) => i['hardware-address']?.toLowerCase() === mac)?.statistics;
    if (!s) continue;
    out.push({ nic: n.name, rxBytes: s['rx-bytes'], txBytes: s['tx-bytes'], rxPackets: s['rx-packets'], txPackets: s['tx-packets'] });
  }
  return out;
}

export class GuestNicStats {
  private quietUntil = 0;

  constructor(private readonly agentSocket: string, private readonly spec: VmSpec, private readonly vmId: string, private readonly now: () => number = Date.now) {}

  async read(signal: AbortSignal): Promise<NicCounters[]> {
    if (!this.spec.agent.enabled || this.spec.networks.length === 0 || this.now() < this.quietUntil) return [];
    let agent: GuestAgentClient | undefined;
    try {
      agent = await GuestAgentClient.connect(this.agentSocket, { signal, timeoutMs: AGENT_STATS_TIMEOUT_MS });
      const ifaces = await agent.execute<GuestInterface[]>('guest-network-get-interfaces', undefined, { signal, timeoutMs: AGENT_STATS_TIMEOUT_MS });
      return nicCountersOf(this.spec, this.vmId, ifaces);
    } catch (err) {
      if (signal.aborted) throw err;
      this.quietUntil = this.now() + RETRY_AFTER_MS; // not up yet, frozen, or no agent in the guest
      return [];
    } finally {
      agent?.close();
    }
  }
}
