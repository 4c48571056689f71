import { describe, expect, it } from 'vitest';
import { answerError, transportError } from './errors.js';

describe('proxmox errors', () => {
  it('answers map to the catalogue by status and by qemu-server\'s words', () => {
    const w = { endpoint: 'pve', method: 'POST', path: '/nodes/pve1/qemu/100/status/start' };
    expect(answerError(w, 401, 'authentication failure', { data: null }).code).toBe('ENDPOINT_AUTH_FAILED');
    expect(answerError(w, 403, 'Permission check failed (/vms/100, VM.PowerMgmt)', { data: null }).code).toBe('ENDPOINT_AUTH_FAILED');
    const bad = answerError(w, 400, 'Parameter verification failed.', { data: null, errors: { target: 'target is local node.' } });
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toContain('target: target is local node.');
    expect(answerError(w, 500, "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist", { data: null }).code).toBe('FOREIGN_VM_NOT_FOUND');
    expect(answerError(w, 500, 'VM 100 not running', { data: null }).code).toBe('INVALID_TRANSITION');
    expect(answerError(w, 500, 'VM is locked (migrate)', { data: null }).code).toBe('VM_BUSY');
    expect(answerError(w, 500, 'storage \'x\' does not exist', { data: null }).code).toBe('ENDPOINT_TASK_FAILED');
    expect(answerError(w, 501, "Method 'POST /nodes' not implemented", { data: null }).code).toBe('ENDPOINT_PROTOCOL');
  });

  it('transport failures: refused is unreachable unless the operation was accepted; TLS; resets', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(transportError('pve', 'https://h:8006', refused, false).code).toBe('ENDPOINT_UNREACHABLE');
    expect(transportError('pve', 'https://h:8006', refused, true).code).toBe('ENDPOINT_LOST');
    expect(transportError('pve', 'https://h:8006', Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), false).code).toBe('ENDPOINT_TLS_UNTRUSTED');
    expect(transportError('pve', 'https://h:8006', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), false).code).toBe('ENDPOINT_LOST');
  });
});
