/**
 * virsh's error text → the catalogue. libvirt's messages are stable enough to
 * match (they are its public error strings: VIR_ERR_NO_DOMAIN "Domain not
 * found", VIR_ERR_OPERATION_INVALID "Requested operation is not valid", …).
 * The message keeps libvirt's own words; credentials never appear in it
 * (virsh does not print them and the URI of a password login holds none).
 */
import { PolyvisorError, type ErrorCode } from '../../shared/index.js';

const RULES: Array<[RegExp, ErrorCode]> = [
  [/authentication (failed|unavailable)|auth.*(denied|failed)|Permission denied.*auth|SASL/i, 'ENDPOINT_AUTH_FAILED'],
  [/certificate|TLS handshake|gnutls/i, 'ENDPOINT_TLS_UNTRUSTED'],
  [/End of file while reading data|Cannot recv data|Cannot write data|client socket is closed|connection (is )?closed|keepalive timeout/i, 'ENDPOINT_LOST'],
  [/failed to connect to the hypervisor|Failed to connect socket|Connection refused|No route to host|Name or service not known|no connection driver available/i, 'ENDPOINT_UNREACHABLE'],
  [/Domain snapshot not found|snapshot .* not found|no domain snapshot with matching name/i, 'SNAPSHOT_NOT_FOUND'],
  [/Domain not found|failed to get domain|no domain with matching (name|uuid)/i, 'FOREIGN_VM_NOT_FOUND'],
  [/domain is already running|domain is not running|already active|Requested operation is not valid|domain .* is (not )?(running|paused|active)|is already in use by domain/i, 'INVALID_TRANSITION'],
  [/snapshot .*already exists|already exists.*snapshot/i, 'SNAPSHOT_EXISTS'],
  [/domain .* already exists|already exists with uuid/i, 'VM_EXISTS'],
];

/** The `error:` lines of virsh's stderr, without the prefix. */
export function virshMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const errs = lines.filter((l) => l.startsWith('error:')).map((l) => l.replace(/^error:\s*/, ''));
  return (errs.length ? errs : lines).slice(-3).join('; ') || 'virsh failed without a message';
}

export function virshErrorCode(message: string): ErrorCode {
  for (const [re, code] of RULES) if (re.test(message)) return code;
  return 'ENDPOINT_TASK_FAILED';
}

export function virshError(stderr: string, command: string, uri: string): PolyvisorError {
  const msg = virshMessage(stderr);
  const code = virshErrorCode(msg);
  const where = code === 'ENDPOINT_UNREACHABLE' || code === 'ENDPOINT_LOST' || code === 'ENDPOINT_AUTH_FAILED' ? ` (${uri})` : '';
  return new PolyvisorError(code, `libvirt ${command}${where}: ${msg}`);
}
