/**
 * A driver that names its files but starts nothing (every start fails with
 * QEMU_MISSING): for tests of the layers above drivers (API, lifecycle) that
 * need VM records without processes.
 */
import { fail } from '../shared/index.js';
import type { Driver } from './driver.js';

export const stubDriver: Driver = {
  name: 'stub',
  files: (dir) => ({
    qmpSocket: `${dir}/qmp.sock`, agentSocket: `${dir}/qga.sock`, serialSocket: `${dir}/serial.sock`, serialLog: `${dir}/serial.log`,
    pidFile: `${dir}/qemu.pid`, vncSocket: `${dir}/vnc.sock`, nvram: `${dir}/nvram.fd`, saveFile: `${dir}/state.save`,
  }),
  start: async () => fail('QEMU_MISSING', 'stub driver'),
  adopt: async () => ({ ok: false, reason: 'stub' }),
  probeAccel: async () => ({ accel: 'tcg', reason: 'stub', kvmTried: false }),
};
