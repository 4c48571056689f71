import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { APPLIANCE_FORMATS, applianceOutDir, findApplianceScript, parseApplianceFormats } from './appliance-commands.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isPolyvisorError(err) ? err.code : 'not-a-polyvisor-error';
  }
  return undefined;
}

describe('polyvisor appliance build arguments', () => {
  it('takes known formats in the order given, once each', () => {
    expect(parseApplianceFormats('vmdk, qcow2,vmdk')).toEqual(['vmdk', 'qcow2']);
    expect(parseApplianceFormats(APPLIANCE_FORMATS.join(','))).toEqual([...APPLIANCE_FORMATS]);
  });

  it('refuses an unknown or empty format list with INVALID_ARGUMENT', () => {
    expect(codeOf(() => parseApplianceFormats('qcow2,iso'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseApplianceFormats(' , '))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseApplianceFormats('qcow2;rm -rf /'))).toBe('INVALID_ARGUMENT');
  });

  it('resolves --out against the working directory and refuses a file or control characters', () => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-appliance-'));
    expect(applianceOutDir('out', tmp)).toBe(path.join(tmp, 'out'));
    writeFileSync(path.join(tmp, 'file'), 'x');
    expect(codeOf(() => applianceOutDir('file', tmp))).toBe('INVALID_PATH');
    expect(codeOf(() => applianceOutDir('a\nb', tmp))).toBe('INVALID_PATH');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('finds guest/appliance/build.sh above the CLI, and says APPLIANCE_SOURCES_MISSING elsewhere', () => {
    expect(findApplianceScript()).toMatch(/guest\/appliance\/build\.sh$/);
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-appliance-'));
    mkdirSync(path.join(tmp, 'a', 'b'), { recursive: true });
    expect(codeOf(() => findApplianceScript(path.join(tmp, 'a', 'b')))).toBe('APPLIANCE_SOURCES_MISSING');
    rmSync(tmp, { recursive: true, force: true });
  });
});
