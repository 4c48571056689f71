import { describe, expect, it } from 'vitest';
import { capabilitiesOf, parseMachineHelp, parseMeminfo, parseQemuVersion } from './migrate-host-facts.js';

describe('host facts parsing', () => {
  it('reads QEMU version, machine types, meminfo and capabilities', () => {
    expect(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n')).toBe('7.2.22');
    expect(parseMachineHelp('Supported machines are:\nmicrovm              microvm (i386)\npc                   Standard PC (alias of pc-i440fx-7.2)\nq35                  Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)\n'))
      .toEqual(['microvm', 'pc', 'q35']);
    expect(parseMeminfo('MemTotal:       24000000 kB\nMemAvailable:    1000 kB\n', 'MemAvailable')).toBe(1024000);
    expect(capabilitiesOf('7.2.22')).toContain('multifd');
    expect(capabilitiesOf('3.1.0')).not.toContain('multifd');
    expect(capabilitiesOf('2.10.0')).toEqual(['xbzrle', 'auto-converge', 'postcopy-ram']);
  });
});
