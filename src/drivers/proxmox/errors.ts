/**
 * Proxmox's failures mapped to the catalogue. Proxmox puts the reason of a
 * failed call in the HTTP reason phrase (and a 400's per-parameter reasons in
 * `errors`); a worker task's failure is its exitstatus text. Both are the
 * Perl `die` texts of qemu-server, matched here by their stable wording.
 */
import { PolyvisorError, type ErrorCode } from '../../shared/index.js';

interface Rule {
  re: RegExp;
  code: ErrorCode;
  hint?: (m: RegExpExecArray) => string;
}

const RULES: Rule[] = [
  { re: /Configuration file '[^']*' does not exist|^no such VM/i, code: 'FOREIGN_VM_NOT_FOUND' },
  { re: /snapshot '[^']*' does not exist/, code: 'SNAPSHOT_NOT_FOUND' },
  { re: /snapshot name '[^']*' already used/, code: 'SNAPSHOT_EXISTS' },
  { re: /already running|not running|is paused - cannot|can't migrate running VM without/, code: 'INVALID_TRANSITION' },
  {
    re: /VM is locked \(([\w-]+)\)/,
    code: 'VM_BUSY',
    hint: (m) => `Proxmox holds a "${m[1]}" lock on the VM while a task works on it: wait for that task (the node's task log), then retry; a lock left by a crashed task is cleared on the node with \`qm unlock VMID\`.`,
  },
  { re: /no such cluster node|target is local node/, code: 'INVALID_ARGUMENT' },
  { re: /unable to create VM \d+: config file already exists/, code: 'VM_EXISTS' },
];

/** The catalogue error for a Proxmox failure text, or `fallback` when no rule knows the text. */
export function pveFailure(text: string, message: string, fallback: ErrorCode, details?: unknown): PolyvisorError {
  for (const r of RULES) {
    const m = r.re.exec(text);
    if (m) return new PolyvisorError(r.code, message, { details, ...(r.hint ? { hint: r.hint(m) } : {}) });
  }
  return new PolyvisorError(fallback, message, { details });
}

export interface CallWhere {
  endpoint: string;
  method: string;
  path: string;
}

/** An HTTP answer other than 200 as a catalogue error. */
export function answerError(w: CallWhere, status: number, reason: string, body: unknown): PolyvisorError {
  const errors = body && typeof body === 'object' && 'errors' in body ? (body as { errors?: unknown }).errors : undefined;
  const perParam = errors && typeof errors === 'object' ? Object.entries(errors as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v).trim()}`) : [];
  const said = [reason.trim() || `HTTP ${status}`, ...perParam].join('; ');
  const at = `${w.method} ${w.path}`;
  if (status === 401) return new PolyvisorError('ENDPOINT_AUTH_FAILED', `Proxmox endpoint ${w.endpoint} refused the credentials (${said})`);
  if (status === 403) {
    return new PolyvisorError('ENDPOINT_AUTH_FAILED', `Proxmox endpoint ${w.endpoint}: the user or API token lacks a privilege for ${at} (${said})`, {
      hint: 'Grant the user (or the API token, when it has privilege separation) a role with the named privilege on the path, e.g. PVEVMAdmin on /vms, in Datacenter → Permissions.',
    });
  }
  if (status === 400) return pveFailure(said, `Proxmox endpoint ${w.endpoint} refused ${at}: ${said}`, 'INVALID_ARGUMENT', { status });
  if (status === 501) return new PolyvisorError('ENDPOINT_PROTOCOL', `Proxmox endpoint ${w.endpoint} does not implement ${at} (${said}); docs/drivers-proxmox.md names the API version the driver needs`);
  if (status === 595 || status === 596) return new PolyvisorError('ENDPOINT_UNREACHABLE', `Proxmox endpoint ${w.endpoint} could not reach the node for ${at} (${said})`);
  return pveFailure(said, `Proxmox endpoint ${w.endpoint}: ${at} failed: ${said}`, status >= 500 ? 'ENDPOINT_TASK_FAILED' : 'ENDPOINT_PROTOCOL', { status });
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_REJECTED', 'INVALID_CA',
]);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/**
 * A failure below HTTP. `accepted` says whether the operation had already been
 * taken by Proxmox (a task being followed): then even a refused connection
 * means the endpoint went away mid-operation.
 */
export function transportError(endpoint: string, url: string, err: unknown, accepted: boolean): PolyvisorError {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  if (TLS_CODES.has(code) || /certificate|self[- ]signed/i.test(e?.message ?? '')) {
    return new PolyvisorError('ENDPOINT_TLS_UNTRUSTED', `the certificate of Proxmox endpoint ${endpoint} (${url}) is not trusted: ${e.message}`, { cause: err });
  }
  if (UNREACHABLE_CODES.has(code) && !accepted) {
    return new PolyvisorError('ENDPOINT_UNREACHABLE', `Proxmox endpoint ${endpoint} (${url}) cannot be reached: ${code}`, { cause: err });
  }
  return new PolyvisorError('ENDPOINT_LOST', `Proxmox endpoint ${endpoint} (${url}) went away during the call: ${code || e?.message || String(err)}`, { cause: err });
}
