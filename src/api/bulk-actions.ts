/**
 * What each bulk action does to one VM, which permission it needs, and in
 * which states a VM is skipped rather than failed: the same services and
 * permissions as the single-VM routes (POST /v1/vms/:name/:action, …/snapshots,
 * …/backups, …/migrate).
 */
import { z } from 'zod';
import type { BackupService } from '../backup/index.js';
import { ACTIONS, type BulkStep, type BulkTarget, type SnapshotService, type VmService } from '../lifecycle/index.js';
import { parseMigrateOptions, type MigrationService, type PeerRegistry } from '../migration/index.js';
import { fail } from '../shared/index.js';
import type { BulkActionName, VmState } from '../spec/index.js';
import type { Permission } from './auth/permissions.js';
import { parseWith } from './validate.js';

export interface BulkServices {
  service: VmService;
  snapshots?: SnapshotService | undefined;
  backups?: BackupService | undefined;
  migrations?: MigrationService | undefined;
  /** Registered migration peers (a bulk move names one, like a single move). */
  peers?: PeerRegistry | undefined;
}

/** The permission the single-VM route of each action declares. */
export const BULK_PERMISSION: Readonly<Record<BulkActionName, Permission>> = {
  start: 'vm:operate', stop: 'vm:operate', kill: 'vm:operate', pause: 'vm:operate', resume: 'vm:operate', reboot: 'vm:operate', suspend: 'vm:operate',
  snapshot: 'vm:snapshot', backup: 'vm:backup', migrate: 'vm:migrate',
};

const stopOptions = z.object({
  timeoutSeconds: z.number().int().min(1).max(3600).optional().describe('seconds to wait for each guest before killing it'),
  force: z.boolean().optional().describe('kill at once'),
}).strict();
const snapshotOptions = z.object({
  name: z.string().optional().describe('the snapshot name on every VM (default bulk-YYYYMMDD-HHMMSS)'),
  description: z.string().max(1024).optional(),
  ram: z.boolean().optional().describe('with RAM (running or paused VMs)'),
  type: z.enum(['internal', 'external']).optional(),
}).strict();
const backupOptions = z.object({
  full: z.boolean().optional(),
  bwlimitMiB: z.number().int().min(1).max(1_000_000).optional(),
}).strict();
const noOptions = z.object({}).strict();

/** Snapshots and backups work on a VM that is running, paused, created or stopped (as the services say). */
const CONTENT_STATES: readonly VmState[] = ['running', 'paused', 'created', 'stopped'];

/** A bulk action with its options checked, ready to run on each VM picked. */
export interface PreparedBulk {
  skipReason(t: BulkTarget): string | undefined;
  act(name: string, signal: AbortSignal): Promise<BulkStep>;
}

const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

function need<T>(s: T | undefined, what: string): T {
  if (!s) fail('ROUTE_NOT_FOUND', `this daemon serves no ${what}`);
  return s;
}

/** Checks the action's options (INVALID_BODY naming the field) and returns how to run it. */
export function prepareBulk(s: BulkServices, action: BulkActionName, options: Record<string, unknown>): PreparedBulk {
  const after = async (name: string): Promise<VmState | null> => (await s.service.find(name))?.state ?? null;
  const allowedIn = (states: readonly VmState[], what: string) => (t: BulkTarget): string | undefined =>
    states.includes(t.state) ? undefined : `${what} is not possible while ${t.state}`;
  switch (action) {
    case 'snapshot': {
      const snaps = need(s.snapshots, 'snapshots');
      const o = parseWith(snapshotOptions, options, 'options');
      const req = { ...o, name: o.name ?? `bulk-${stamp(new Date())}` };
      return {
        skipReason: allowedIn(CONTENT_STATES, 'a snapshot'),
        act: async (name) => {
          await snaps.create(name, req);
          return { after: await after(name), output: { snapshot: req.name } };
        },
      };
    }
    case 'backup': {
      const backups = need(s.backups, 'backups');
      const o = parseWith(backupOptions, options, 'options');
      return {
        skipReason: allowedIn(CONTENT_STATES, 'a backup'),
        act: async (name) => {
          const b = await backups.create(name, o);
          return { after: await after(name), output: { backup: b.id, kind: b.kind, mode: b.mode } };
        },
      };
    }
    case 'migrate': {
      const migrations = need(s.migrations, 'migrations');
      const o = parseMigrateOptions(options);
      // A move to another daemon may take a stopped VM offline; on this host only a live one moves.
      const states: VmState[] = o.target ? ['running', 'paused', 'stopped'] : ['running', 'paused'];
      return {
        skipReason: allowedIn(states, o.target ? 'a move to another host' : 'a live move on this host'),
        act: async (name, signal) => {
          const r = await migrations.migrate(name, o, undefined, signal);
          const target = 'target' in r ? r.target : null;
          return { after: await after(name), output: { ...(target ? { target: target.host } : { targetPid: r.targetPid }), downtimeMs: r.stats.downtimeMs, wallMs: r.wallMs } };
        },
      };
    }
    case 'stop': {
      const o = parseWith(stopOptions, options, 'options');
      return {
        skipReason: allowedIn(ACTIONS.stop, 'stop'),
        act: async (name, signal) => ({ after: (await s.service.stop(name, { ...o, signal })).state }),
      };
    }
    default: {
      parseWith(noOptions, options, 'options');
      const run = (name: string, signal: AbortSignal) => {
        switch (action) {
          case 'start': return s.service.start(name, { signal });
          case 'kill': return s.service.kill(name);
          case 'pause': return s.service.pause(name);
          case 'resume': return s.service.resume(name, { signal });
          case 'reboot': return s.service.reboot(name, { signal });
          case 'suspend': return s.service.suspend(name, { signal });
        }
      };
      return {
        skipReason: allowedIn(ACTIONS[action], action),
        act: async (name, signal) => ({ after: (await run(name, signal)).state }),
      };
    }
  }
}
