/** Migrations in progress on this daemon, by VM name: their progress, and the handles to cancel or switch them. */
import type { MigrationProgress, MirrorProgress } from '../drivers/index.js';
import { fail, PolyvisorError } from '../shared/index.js';
import type { PostcopyMode } from './options.js';

/** mirroring: non-shared disks are copied (host-to-host); copying: the files of an offline move. */
export type MigrationPhase = 'preparing' | 'mirroring' | 'copying' | 'transferring' | 'postcopy' | 'switching-over';

/** What GET /v1/vms/:name/migration shows. */
export interface MigrationStatusView {
  vm: string;
  phase: MigrationPhase;
  startedAt: string;
  postcopy: PostcopyMode;
  explanation: string;
  progress: MigrationProgress | null;
  /** Disk copy progress (host-to-host without shared storage, offline moves). */
  disks: MirrorProgress | null;
  /** Host-to-host: the target daemon's URL. */
  target: string | null;
}

export class ActiveMigration {
  phase: MigrationPhase = 'preparing';
  progress: MigrationProgress | undefined;
  disks: MirrorProgress | undefined;
  target: string | null = null;
  postcopyRequested = false;
  readonly controller = new AbortController();
  readonly startedAt = new Date().toISOString();

  constructor(
    readonly vm: string,
    readonly postcopy: PostcopyMode,
    readonly explanation: string,
  ) {}

  view(): MigrationStatusView {
    return {
      vm: this.vm, phase: this.phase, startedAt: this.startedAt, postcopy: this.postcopy, explanation: this.explanation,
      progress: this.progress ?? null, disks: this.disks ?? null, target: this.target,
    };
  }
}

export class ActiveMigrations {
  private readonly byVm = new Map<string, ActiveMigration>();

  add(m: ActiveMigration): void {
    if (this.byVm.has(m.vm)) fail('VM_BUSY', `VM ${m.vm} is already being migrated`);
    this.byVm.set(m.vm, m);
  }

  remove(m: ActiveMigration): void {
    if (this.byVm.get(m.vm) === m) this.byVm.delete(m.vm);
  }

  get(vm: string): ActiveMigration | undefined {
    return this.byVm.get(vm);
  }

  require(vm: string): ActiveMigration {
    const m = this.byVm.get(vm);
    if (!m) fail('MIGRATION_NOT_RUNNING', `no migration of VM ${vm} is in progress`);
    return m;
  }

  /** Rolls back a migration that has not switched over yet. */
  cancel(vm: string): MigrationStatusView {
    const m = this.require(vm);
    if (m.phase === 'postcopy' || m.phase === 'switching-over') {
      fail('MIGRATION_NOT_RUNNING', `the migration of VM ${vm} has already switched over (${m.phase}); it can no longer be cancelled`);
    }
    m.controller.abort(new PolyvisorError('ABORTED', `the migration of VM ${vm} was cancelled; it keeps running where it was`));
    return m.view();
  }

  requestPostcopy(vm: string): MigrationStatusView {
    const m = this.require(vm);
    if (m.postcopy === 'off') fail('INVALID_ARGUMENT', `the migration of VM ${vm} was started without post-copy; start it with postcopy "manual" (or another mode) to switch later`);
    m.postcopyRequested = true;
    return m.view();
  }

  names(): string[] {
    return [...this.byVm.keys()];
  }
}
