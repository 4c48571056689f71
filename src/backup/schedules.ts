/**
 * Backup schedules run by the daemon (docs/snapshots-backups.md, "Schedules").
 * They are kept in the store's meta table (SQLite) as one JSON document, so
 * they survive restarts with no schema change. Every `tickMs` the scheduler
 * runs the schedules that are due (nextRun of their rule after their last
 * run, or after their creation), one at a time; a run backs up each chosen
 * VM and then applies the schedule's retention to it. The clock and the run
 * itself are injected, so the timing rules are unit-tested without QEMU.
 */
import { fail, validateName, type Logger } from '../shared/index.js';
import type { RetentionPolicy } from './retention.js';
import { nextRun, parseRule } from './schedule-rule.js';

export const SCHEDULES_KEY = 'backup-schedules';

export interface ScheduleInput {
  name: string;
  /** One VM by name… */
  vm?: string;
  /** …or every VM carrying all of these labels. */
  selector?: Record<string, string>;
  /** "every 6h", "daily 02:00", "weekly sun 03:30" (UTC). */
  when: string;
  retention?: RetentionPolicy;
  /** Always a full backup (default: incremental when the bitmap can be trusted). */
  full?: boolean;
  enabled?: boolean;
}

export interface ScheduleRunResult { at: string; backedUp: Array<{ vm: string; id: string; kind: string }>; pruned: string[]; failed: Array<{ vm: string; error: string }> }

export interface BackupSchedule extends ScheduleInput {
  enabled: boolean;
  createdAt: string;
  lastRunAt: string | null;
  lastResult: ScheduleRunResult | null;
}

export interface ScheduleView extends BackupSchedule { nextRunAt: string | null }

export interface MetaDoc {
  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;
}

export interface SchedulerOptions {
  meta: MetaDoc;
  /** Backs up the schedule's VMs and prunes them. */
  run: (s: BackupSchedule) => Promise<ScheduleRunResult>;
  logger: Logger;
  clock?: () => Date;
  /** How often due schedules are looked for (default 1 s). */
  tickMs?: number;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

export class BackupScheduler {
  private readonly clock: () => Date;
  private lock: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<string[]> | undefined;

  constructor(private readonly o: SchedulerOptions) {
    this.clock = o.clock ?? (() => new Date());
  }

  /** Serializes read-modify-write of the stored document. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.lock.then(fn, fn);
    this.lock = p.catch(() => undefined);
    return p;
  }

  private async load(): Promise<BackupSchedule[]> {
    const raw = await this.o.meta.getMeta(SCHEDULES_KEY);
    return raw ? (JSON.parse(raw) as BackupSchedule[]) : [];
  }

  private save(all: BackupSchedule[]): Promise<void> {
    return this.o.meta.setMeta(SCHEDULES_KEY, JSON.stringify(all));
  }

  view(s: BackupSchedule): ScheduleView {
    return { ...s, nextRunAt: s.enabled ? nextRun(parseRule(s.when), new Date(s.lastRunAt ?? s.createdAt)).toISOString() : null };
  }

  async list(): Promise<ScheduleView[]> {
    return (await this.load()).map((s) => this.view(s));
  }

  async get(name: string): Promise<ScheduleView> {
    const s = (await this.load()).find((x) => x.name === name);
    if (!s) fail('SCHEDULE_NOT_FOUND', `no backup schedule named ${name}`);
    return this.view(s);
  }

  async create(input: ScheduleInput): Promise<ScheduleView> {
    const clean = validate(input);
    return this.serial(async () => {
      const all = await this.load();
      if (all.some((s) => s.name === clean.name)) fail('SCHEDULE_EXISTS', `a backup schedule named ${clean.name} already exists`);
      const s: BackupSchedule = { ...clean, enabled: input.enabled ?? true, createdAt: this.clock().toISOString(), lastRunAt: null, lastResult: null };
      await this.save([...all, s]);
      return this.view(s);
    });
  }

  /** Replaces what the schedule does and when; its history stays. */
  async update(name: string, input: Omit<ScheduleInput, 'name'>): Promise<ScheduleView> {
    const clean = validate({ ...input, name });
    return this.serial(async () => {
      const all = await this.load();
      const old = all.find((s) => s.name === name);
      if (!old) fail('SCHEDULE_NOT_FOUND', `no backup schedule named ${name}`);
      const s: BackupSchedule = { ...clean, enabled: input.enabled ?? old.enabled, createdAt: old.createdAt, lastRunAt: old.lastRunAt, lastResult: old.lastResult };
      await this.save(all.map((x) => (x.name === name ? s : x)));
      return this.view(s);
    });
  }

  remove(name: string): Promise<void> {
    return this.serial(async () => {
      const all = await this.load();
      if (!all.some((s) => s.name === name)) fail('SCHEDULE_NOT_FOUND', `no backup schedule named ${name}`);
      await this.save(all.filter((s) => s.name !== name));
    });
  }

  /** Runs every schedule that is due now, one after the other; returns their names. Overlapping calls share one pass. */
  tick(): Promise<string[]> {
    this.ticking ??= this.pass().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async pass(): Promise<string[]> {
    const now = this.clock();
    const due = (await this.list()).filter((s) => s.nextRunAt !== null && new Date(s.nextRunAt) <= now);
    for (const s of due) {
      const startedAt = this.clock().toISOString();
      let result: ScheduleRunResult;
      try {
        result = await this.o.run(s);
      } catch (err) {
        result = { at: startedAt, backedUp: [], pruned: [], failed: [{ vm: s.vm ?? '*', error: (err as Error).message }] };
      }
      this.o.logger.info({ schedule: s.name, backedUp: result.backedUp.length, failed: result.failed.length }, 'backup schedule ran');
      await this.serial(async () => {
        const all = await this.load();
        await this.save(all.map((x) => (x.name === s.name ? { ...x, lastRunAt: startedAt, lastResult: result } : x)));
      });
    }
    return due.map((s) => s.name);
  }

  start(): void {
    const every = this.o.tickMs ?? 1000;
    const loop = (): void => {
      this.timer = setTimeout(() => {
        this.tick().catch((err: unknown) => this.o.logger.error({ err }, 'backup scheduler pass failed')).finally(() => {
          if (this.timer) loop();
        });
      }, every);
      this.timer.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
  }
}

function validate(i: ScheduleInput): ScheduleInput {
  validateName(i.name, 'schedule name');
  parseRule(i.when);
  if ((i.vm === undefined) === (i.selector === undefined)) fail('INVALID_ARGUMENT', 'give exactly one of vm (a VM name) or selector (labels every chosen VM carries)');
  if (i.vm !== undefined) validateName(i.vm, 'VM name');
  if (i.selector !== undefined) {
    const entries = Object.entries(i.selector);
    if (entries.length === 0) fail('INVALID_ARGUMENT', 'a selector needs at least one label (key=value)');
    for (const [k, v] of entries) if (!LABEL.test(k) || !LABEL.test(v)) fail('INVALID_ARGUMENT', `label ${k}=${v}: keys and values are 1-63 letters, digits, ".", "_", "/" or "-"`);
  }
  for (const [k, v] of Object.entries(i.retention ?? {})) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 10_000) fail('INVALID_ARGUMENT', `retention ${k} must be a whole number from 0 to 10000`);
  }
  return {
    name: i.name, when: i.when.trim(), ...(i.vm !== undefined ? { vm: i.vm } : {}), ...(i.selector ? { selector: i.selector } : {}), ...(i.retention ? { retention: i.retention } : {}),
    ...(i.full ? { full: true } : {}),
  };
}
