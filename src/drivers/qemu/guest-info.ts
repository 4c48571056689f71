/**
 * GuestInfo from QEMU's guest agent: guest-info (version), guest-get-osinfo,
 * guest-get-host-name, guest-network-get-interfaces, guest-get-fsinfo and
 * guest-get-time, over one connection. A command the agent lacks or that
 * fails leaves its part empty and is named in `missing`.
 */
import { GuestAgentClient } from '../../qmp/index.js';
import { timeoutSignal } from '../../shared/index.js';
import type { GuestAddress, GuestFilesystem, GuestInterfaceInfo, GuestOs } from '../../spec/index.js';
import type { GuestInfo } from '../guest-info.js';

const CALL_TIMEOUT_MS = 3_000;

interface AgentOsInfo { 'pretty-name'?: string; id?: string; 'version-id'?: string; version?: string; 'kernel-release'?: string; machine?: string }
interface AgentInterface { name: string; 'hardware-address'?: string; 'ip-addresses'?: Array<{ 'ip-address-type': string; 'ip-address': string; prefix: number }> }
interface AgentFs { mountpoint: string; type: string; disk?: Array<{ dev?: string; serial?: string }>; 'total-bytes'?: number; 'used-bytes'?: number; name?: string }

export function osOf(o: AgentOsInfo): GuestOs {
  return { prettyName: o['pretty-name'] ?? null, id: o.id ?? null, version: o['version-id'] ?? o.version ?? null, kernelRelease: o['kernel-release'] ?? null, machine: o.machine ?? null };
}

export function interfacesOf(list: readonly AgentInterface[]): GuestInterfaceInfo[] {
  return list.map((i) => ({
    name: i.name,
    mac: i['hardware-address'] && i['hardware-address'] !== '00:00:00:00:00:00' ? i['hardware-address'].toLowerCase() : null,
    addresses: (i['ip-addresses'] ?? []).map((a): GuestAddress => ({ family: a['ip-address-type'] === 'ipv6' ? 'ipv6' : 'ipv4', address: a['ip-address'], prefix: a.prefix })),
  }));
}

export function filesystemsOf(list: readonly AgentFs[]): GuestFilesystem[] {
  return list.map((f) => ({
    mountpoint: f.mountpoint,
    type: f.type,
    devices: (f.disk ?? []).map((d) => d.dev?.replace(/^\/dev\//, '')).filter((d): d is string => !!d),
    totalBytes: f['total-bytes'] ?? null,
    usedBytes: f['used-bytes'] ?? null,
  })).sort((a, b) => a.mountpoint.localeCompare(b.mountpoint));
}

export async function readGuestInfo(agentSocket: string, agentEnabled: boolean, outer: AbortSignal): Promise<GuestInfo> {
  const info: GuestInfo = {
    agent: { responding: false, version: null, latencyMs: null, error: null },
    os: null, hostname: null, interfaces: [], filesystems: [], clockSkewMs: null, missing: [], readAt: new Date().toISOString(),
  };
  if (!agentEnabled) {
    info.agent.error = 'the VM spec has agent.enabled false';
    return info;
  }
  let agent: GuestAgentClient | undefined;
  try {
    const signal = timeoutSignal(CALL_TIMEOUT_MS * 3, outer);
    agent = await GuestAgentClient.connect(agentSocket, { signal, timeoutMs: CALL_TIMEOUT_MS });
    const t0 = Date.now();
    const gi = await agent.execute<{ version?: string }>('guest-info', undefined, { signal, timeoutMs: CALL_TIMEOUT_MS });
    info.agent = { responding: true, version: gi.version ?? null, latencyMs: Date.now() - t0, error: null };
    const a = agent;
    const part = async <T>(name: string, cmd: string, f: (r: T) => void): Promise<void> => {
      try {
        f(await a.execute<T>(cmd, undefined, { signal, timeoutMs: CALL_TIMEOUT_MS }));
      } catch (err) {
        info.missing.push({ part: name, error: (err as Error).message });
      }
    };
    // One connection answers one command at a time: in turn.
    await part<AgentOsInfo>('os', 'guest-get-osinfo', (r) => { info.os = osOf(r); });
    await part<{ 'host-name': string }>('hostname', 'guest-get-host-name', (r) => { info.hostname = r['host-name']; });
    await part<AgentInterface[]>('interfaces', 'guest-network-get-interfaces', (r) => { info.interfaces = interfacesOf(r); });
    await part<AgentFs[]>('filesystems', 'guest-get-fsinfo', (r) => { info.filesystems = filesystemsOf(r); });
    await part<number>('clock', 'guest-get-time', (ns) => { info.clockSkewMs = Math.round(ns / 1e6 - Date.now()); });
  } catch (err) {
    if (outer.aborted) throw err;
    info.agent.error = (err as Error).message;
  } finally {
    agent?.close();
  }
  return info;
}
