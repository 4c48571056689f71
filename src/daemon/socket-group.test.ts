import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { checkSocketGroup, resolveGroup } from './socket-group.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pv-group-'));
const groups = path.join(dir, 'group');
writeFileSync(groups, 'root:x:0:\npvadmins:x:1234:alice,bob\nbroken:x:\n');

function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    return isPolyvisorError(err) ? `${err.code}: ${err.message}` : String(err);
  }
}

describe('socketGroup', () => {
  it('resolves a group name from the group file, or takes a gid', () => {
    expect(resolveGroup('pvadmins', groups)).toBe(1234);
    expect(resolveGroup('0', groups)).toBe(0);
    expect(resolveGroup('root', groups)).toBe(0);
  });

  it('a group that does not exist is a CONFIG_INVALID naming it', () => {
    expect(codeOf(() => resolveGroup('nobody-here', groups))).toMatch(/^CONFIG_INVALID: .*socketGroup: there is no group "nobody-here"/);
    expect(codeOf(() => resolveGroup('broken', groups))).toMatch(/^CONFIG_INVALID/);
  });

  it('refuses a shared socket inside the private state directory', () => {
    expect(codeOf(() => checkSocketGroup({ socket: '/var/lib/pv/polyvisord.sock', stateDir: '/var/lib/pv', socketGroup: '0' }))).toMatch(/CONFIG_INVALID: .*inside the state directory/);
    expect(checkSocketGroup({ socket: '/run/pv/polyvisord.sock', stateDir: '/var/lib/pv', socketGroup: '0' })).toBe(0);
  });
});
