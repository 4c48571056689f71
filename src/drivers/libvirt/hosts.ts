/**
 * An endpoint of the libvirt driver is one libvirtd or several (hosts a VM
 * can live-migrate between): its URL is one libvirt URI, or several separated
 * by commas. Each host is named by the URI's host part when that is unique
 * (qemu+ssh://node1/system → node1), else by the whole URI (two daemons on one
 * machine, reached through their sockets).
 */
import { createHash } from 'node:crypto';
import { fail } from '../../shared/index.js';

export interface LibvirtHost {
  name: string;
  uri: string;
  /** Short stable token of the URI (file names that must differ per host, e.g. serial sockets). */
  key: string;
  /** The daemon runs on this machine (its files are this machine's files). */
  local: boolean;
}

export const URL_EXAMPLE = 'qemu:///system, qemu+ssh://root@node1/system, or several comma-separated (qemu+unix:///system?socket=/run/a/libvirt-sock,qemu+unix:///system?socket=/run/b/libvirt-sock)';

const URI = /^(qemu)(\+(unix|ssh|tcp|tls|libssh|libssh2))?:\/\/([^/?#\s]*)\/(system|session)(\?[^\s#]*)?$/;
/** Query parameters that run a program, point libvirt at local files, or switch certificate checks off are refused. */
const REFUSED_PARAMS = new Set(['command', 'no_verify', 'pkipath', 'keyfile', 'known_hosts', 'sshauth']);

export function parseHosts(url: string): LibvirtHost[] {
  const uris = url.split(',').map((u) => u.trim()).filter(Boolean);
  if (uris.length === 0) fail('INVALID_ARGUMENT', `the libvirt endpoint URL is empty; give a libvirt URI such as ${URL_EXAMPLE}`);
  const parsed = uris.map((uri) => {
    const m = URI.exec(uri);
    if (!m) fail('INVALID_ARGUMENT', `"${uri.slice(0, 200)}" is not a libvirt QEMU URI the driver accepts (driver qemu, transport unix|ssh|tcp|tls, path /system or /session); e.g. ${URL_EXAMPLE}`);
    const params = new URLSearchParams((m[6] ?? '').slice(1));
    for (const k of params.keys()) {
      if (REFUSED_PARAMS.has(k)) fail('INVALID_ARGUMENT', `the libvirt URI parameter "${k}" is not accepted (it would make libvirt run a program or read a file named in the URL); leave it out`);
    }
    const authority = m[4] ?? '';
    const host = authority.replace(/^[^@]*@/, '').replace(/:\d+$/, '');
    const local = host === '' || host === 'localhost' || host === '127.0.0.1';
    return { uri, host, local };
  });
  if (new Set(uris).size !== uris.length) fail('INVALID_ARGUMENT', 'the libvirt endpoint URL names the same URI twice');
  return parsed.map((p) => {
    const unique = p.host !== '' && parsed.filter((q) => q.host === p.host).length === 1;
    return { name: unique ? p.host : p.uri, uri: p.uri, key: createHash('sha256').update(p.uri).digest('hex').slice(0, 8), local: p.local };
  });
}
