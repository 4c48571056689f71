import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { apiBase } from './url.js';

describe('proxmox endpoint URLs', () => {
  it('endpoint URLs: https only, port 8006 by default, no credentials or paths', () => {
    expect(apiBase('https://pve.example.com').href).toBe('https://pve.example.com:8006/api2/json');
    expect(apiBase('https://10.0.0.5:443/api2/json/').href).toBe('https://10.0.0.5/api2/json');
    for (const bad of ['http://pve:8006', 'https://root:pw@pve', 'https://pve/x', 'not a url', 'https://pve/?a=1']) {
      let err: unknown;
      try {
        apiBase(bad);
      } catch (e) {
        err = e;
      }
      expect(isPolyvisorError(err, 'INVALID_ARGUMENT'), bad).toBe(true);
    }
  });
});
