/**
 * Samples the host and every running VM every `intervalMs` (default 10 s,
 * one monitor round per VM), turns counters into figures (rates.ts), keeps
 * the 10 s ring and the 1 min averages (consolidate.ts) in the history file
 * (history-db.ts), and answers range queries from it.
 */
import type { HistoryRange, HistoryView, HostHistoryPoint, VmHistoryPoint } from '../spec/index.js';
import { anySignal, type Logger } from '../shared/index.js';
import { MinuteAverager, type Figures } from './consolidate.js';
import type { HistoryDb, StoredPoint } from './history-db.js';
import { hostFigures, vmFigures, type HostFigures, type HostReading, type VmFigures, type VmReading } from './rates.js';
import { COARSE, FINE, stepStart, tierOf } from './tiers.js';

export const VM_COLUMNS = ['cpuPercent', 'memHostBytes', 'memGuestUsedBytes', 'memGuestTotalBytes', 'diskReadBps', 'diskWriteBps', 'netRxBps', 'netTxBps'] as const satisfies ReadonlyArray<keyof VmFigures>;
export const HOST_COLUMNS = ['cpuPercent', 'memUsedBytes', 'memTotalBytes', 'load1'] as const satisfies ReadonlyArray<keyof HostFigures>;

export interface HistoryReadings {
  host: HostReading | null;
  /** Running VMs only, by VM id. */
  vms: Array<{ id: string; reading: VmReading }>;
}

export interface HistorySource {
  read(signal: AbortSignal): Promise<HistoryReadings>;
}

export interface RecorderOptions {
  db: HistoryDb;
  source: HistorySource;
  intervalMs?: number;
  logger: Logger;
  now?: () => number;
}

type Row = Array<number | null>;
// Points built as literals of one shape (not key by key): a day's 1,440 serialize faster. Column order: VM_COLUMNS, HOST_COLUMNS.
const vmPoint = (r: Row): VmHistoryPoint => ({
  t: r[0] as number, cpuPercent: r[1] ?? null, memHostBytes: r[2] ?? null, memGuestUsedBytes: r[3] ?? null, memGuestTotalBytes: r[4] ?? null,
  diskReadBps: r[5] ?? null, diskWriteBps: r[6] ?? null, netRxBps: r[7] ?? null, netTxBps: r[8] ?? null,
});
const hostPoint = (r: Row): HostHistoryPoint => ({ t: r[0] as number, cpuPercent: r[1] ?? null, memUsedBytes: r[2] ?? null, memTotalBytes: r[3] ?? null, load1: r[4] ?? null });

const HOST = 'host';
const vmSeries = (id: string): string => `vm:${id}`;
const PRUNE_EVERY_MS = 3_600_000;

interface SeriesState {
  prev: VmReading | HostReading | undefined;
  minutes: MinuteAverager<Figures>;
  columns: readonly string[];
}

export class HistoryRecorder {
  readonly intervalMs: number;
  private readonly series = new Map<string, SeriesState>();
  private timer: NodeJS.Timeout | undefined;
  private busy: Promise<void> | null = null;
  private prunedAt = 0;
  private closed = false;
  private readonly stop = new AbortController();
  private readonly now: () => number;

  constructor(private readonly o: RecorderOptions) {
    this.intervalMs = o.intervalMs ?? FINE.stepMs;
    this.now = o.now ?? Date.now;
  }

  /** Samples at each multiple of the interval (plus 1 s, clear of step boundaries) until close(). */
  start(): void {
    if (this.closed || this.timer) return;
    const delay = this.intervalMs - (this.now() % this.intervalMs) + Math.min(1000, this.intervalMs / 4);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick().finally(() => this.start());
    }, delay);
    this.timer.unref();
  }

  /** One sampling round; a round still running when the next is due makes that one skip. */
  tick(): Promise<void> {
    if (this.busy) return this.busy;
    this.busy = this.round().catch((err: unknown) => { if (!this.closed) this.o.logger.warn({ err }, 'history sampling failed'); }).finally(() => { this.busy = null; });
    return this.busy;
  }

  private async round(): Promise<void> {
    const r = await this.o.source.read(anySignal([AbortSignal.timeout(Math.max(2_000, this.intervalMs)), this.stop.signal]));
    if (this.closed) return;
    const out: StoredPoint[] = [];
    const seen = new Set<string>();
    const maxGap = this.intervalMs * 3 + 1_000;
    if (r.host) {
      seen.add(HOST);
      const s = this.state(HOST, HOST_COLUMNS);
      this.record(HOST, s, r.host.t, hostFigures(r.host, s.prev as HostReading | undefined, maxGap), out);
      s.prev = r.host;
    }
    for (const { id, reading } of r.vms) {
      const key = vmSeries(id);
      seen.add(key);
      const s = this.state(key, VM_COLUMNS);
      this.record(key, s, reading.t, vmFigures(reading, s.prev as VmReading | undefined, maxGap), out);
      s.prev = reading;
    }
    // A series not sampled this round (a VM that stopped) closes its minute and forgets its counters.
    for (const [key, s] of this.series) {
      if (seen.has(key)) continue;
      this.flushMinute(key, s, out);
      this.series.delete(key);
    }
    this.o.db.write(out);
    const now = this.now();
    if (now - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = now;
      this.o.db.prune(now - tierOf('1d').spanMs - COARSE.stepMs * 2);
    }
  }

  private state(key: string, columns: readonly string[]): SeriesState {
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { prev: undefined, minutes: new MinuteAverager(), columns }));
    return s;
  }

  private record(key: string, s: SeriesState, t: number, f: VmFigures | HostFigures, out: StoredPoint[]): void {
    const figures = f as unknown as Figures;
    const values = s.columns.map((c) => figures[c] ?? null);
    out.push({ series: key, tier: FINE, t: stepStart(FINE, t), values });
    const minute = s.minutes.add(t, figures);
    if (minute) out.push({ series: key, tier: COARSE, t: minute.t, values: s.columns.map((c) => minute.figures[c] ?? null) });
  }

  private flushMinute(key: string, s: SeriesState, out: StoredPoint[]): void {
    const minute = s.minutes.flush();
    if (minute) out.push({ series: key, tier: COARSE, t: minute.t, values: s.columns.map((c) => minute.figures[c] ?? null) });
  }

  vm(id: string, range: HistoryRange): HistoryView<VmHistoryPoint> {
    return this.query(vmSeries(id), range, vmPoint);
  }

  host(range: HistoryRange): HistoryView<HostHistoryPoint> {
    return this.query(HOST, range, hostPoint);
  }

  private query<P>(key: string, range: HistoryRange, point: (row: Row) => P): HistoryView<P> {
    const { tier, spanMs } = tierOf(range);
    const rows = this.o.db.read(key, tier, stepStart(tier, this.now()) - spanMs);
    return { range, stepSeconds: tier.stepMs / 1000, points: rows.map(point) };
  }

  /** Forgets a removed VM's history. */
  forget(id: string): void {
    this.series.delete(vmSeries(id));
    this.o.db.drop(vmSeries(id));
  }

  /** Stops sampling, writes the open minutes, closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.stop.abort(); // a round in flight gives up its monitor calls
    await this.busy;
    const out: StoredPoint[] = [];
    for (const [key, s] of this.series) this.flushMinute(key, s, out);
    this.o.db.write(out);
    this.o.db.close();
  }
}
