/**
 * ops/: the alert rules pass `promtool check rules` and their unit tests, the
 * example Prometheus config parses, and every dashboard and rule names only
 * metrics the exporter really emits.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { run } from '../shared/index.js';
import { MetricsExporter } from './index.js';

const OPS = path.resolve(import.meta.dirname, '..', '..', 'ops');
const PROM = path.join(OPS, 'prometheus');

/** Every series name a fully populated exporter renders (histograms as their base names). */
async function emittedNames(): Promise<Set<string>> {
  const ex = new MetricsExporter({ version: 'test' });
  const stats = {
    cpuSeconds: 1, vcpuSeconds: [{ vcpu: 0, seconds: 1 }], rssBytes: 1, balloonBytes: 1,
    disks: [{ disk: 'd', readBytes: 1, writeBytes: 1, readOps: 1, writeOps: 1, flushOps: 1, readSeconds: 1, writeSeconds: 1 }],
    nics: [{ nic: 'n', rxBytes: 1, txBytes: 1, rxPackets: 1, txPackets: 1 }],
    monitorCalls: [{ command: 'query-status', seconds: 0.001 }],
  };
  ex.setSources({
    vms: async () => [{ name: 'v', state: 'running', vcpus: 1, memoryBytes: 1, stats, statsError: null }, { name: 'w', state: 'running', vcpus: 1, memoryBytes: 1, stats: null, statsError: 'timeout' }],
    pools: async () => [{ name: 'p', capacityBytes: 2, freeBytes: 1, usedBytes: 1 }],
  });
  ex.operationFinished({ kind: 'backup.create', vm: 'v', status: 'succeeded', createdAt: new Date().toISOString(), finishedAt: new Date().toISOString() });
  ex.stateChanged({ vm: 'v', from: 'running', to: 'stopped', reason: 'crash' });
  ex.stateChanged({ vm: 'v', from: 'running', to: 'migrating', reason: 'm' });
  ex.stateChanged({ vm: 'v', from: 'migrating', to: 'running', reason: 'm' });
  ex.apiRequest('GET', '/metrics', 200, 0.01);
  const text = await ex.render();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

function namesIn(text: string): string[] {
  const names = [...text.matchAll(/\bpolyvisor_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
  return [...new Set(names)];
}

describe('Prometheus rules', () => {
  it('pass promtool check rules and promtool test rules', async () => {
    const check = await run('promtool', ['check', 'rules', 'alerts.yml'], { timeoutMs: 30_000, cwd: PROM });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const test = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { timeoutMs: 60_000, cwd: PROM });
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toContain('SUCCESS');
    const cfg = await run('promtool', ['check', 'config', '--syntax-only', 'prometheus.yml'], { timeoutMs: 30_000, cwd: PROM });
    expect(cfg.code, cfg.stdout + cfg.stderr).toBe(0);
  });

  it('cover the alerts issue 8 asks for, and name only emitted metrics', async () => {
    const doc = parse(readFileSync(path.join(PROM, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
    const rules = doc.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining([
      'PolyvisorVMStoppedUnexpectedly', 'PolyvisorVMHighCPU', 'PolyvisorVMHighMemory', 'PolyvisorPoolLowSpace',
      'PolyvisorBackupFailed', 'PolyvisorBackupTooOld', 'PolyvisorMigrationFailed',
    ]));
    const emitted = await emittedNames();
    for (const r of rules) for (const n of namesIn(r.expr)) expect(emitted, `${r.alert}: ${n}`).toContain(n);
  });
});

describe('Grafana dashboards', () => {
  const files = readdirSync(path.join(OPS, 'grafana')).filter((f) => f.endsWith('.json'));

  it('are the four of issue 8', () => {
    expect(files.sort()).toEqual(['host.json', 'migrations-backups.json', 'overview.json', 'vm.json']);
  });

  it('parse, have unique uids and panel ids, and query only emitted metrics', async () => {
    const emitted = await emittedNames();
    const uids = new Set<string>();
    for (const f of files) {
      const d = JSON.parse(readFileSync(path.join(OPS, 'grafana', f), 'utf8')) as {
        uid: string; title: string; panels: Array<{ id: number; targets: Array<{ expr: string }> }>; templating: { list: Array<{ query: unknown }> };
      };
      expect(uids.has(d.uid), f).toBe(false);
      uids.add(d.uid);
      expect(d.panels.length, f).toBeGreaterThan(3);
      expect(new Set(d.panels.map((p) => p.id)).size, f).toBe(d.panels.length);
      const exprs = [...d.panels.flatMap((p) => p.targets.map((t) => t.expr)), JSON.stringify(d.templating.list)];
      const used = namesIn(exprs.join('\n'));
      expect(used.length, f).toBeGreaterThan(0);
      for (const n of used) expect(emitted, `${f}: ${n}`).toContain(n);
    }
  });
});
