/**
 * /metrics against a real daemon and real guests: per-VM series move (a guest
 * writing its disk raises its write bytes), a frozen QEMU does not stall the
 * scrape, the endpoint needs a token on TCP, and the daemon's JSON log lines
 * carry a level, a component and request ids but no secret.
 *
 * Every test has a daemon and VMs of its own (the counters it checks count
 * from that daemon's start); a guest is waited for only where a test talks
 * to it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PlatformClient, request } from '../src/client/index.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { freePort, getWithRetry, httpCall, runCli } from './helpers/http.js';
import { limit, scaled } from './helpers/limits.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
let viewer = '';
let webPort = 0;

/**
 * Set-up of one test: a fresh daemon with a viewer token, m1 (a data disk, a
 * port forward to its port 80) and m2 started, idle created; waits for the
 * guests named in `ready`.
 */
async function setUp(ready: string[] = []): Promise<void> {
  d = await startDaemon();
  webPort = await freePort();
  await d.client.createVm(guestSpec('m1', { disks: [{ name: 'data', size: '64Mi' }], labels: { env: 'test' }, networks: [{ portForwards: [{ hostPort: webPort, guestPort: 80 }] }] }));
  await d.client.createVm(guestSpec('m2'));
  await d.client.createVm(guestSpec('idle'));
  for (const n of ['m1', 'm2']) await d.client.action(n, 'start');
  for (const n of ready) await waitForLine(d.client, n, READY);
  viewer = (await new PlatformClient({ endpoint: { socketPath: d.socket } }).createToken('prom', 'viewer')).token;
}
afterEach(async () => {
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

async function scrape(): Promise<{ text: string; ms: number }> {
  const t0 = performance.now();
  const r = await request({ socketPath: d.socket }, 'GET', '/metrics', undefined, { timeoutMs: limit('daemon') });
  expect(r.status).toBe(200);
  expect(r.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: r.body, ms: performance.now() - t0 };
}

/**
 * Scrapes until `ok` holds: the daemon reuses its newest sampling of the VMs' counters for
 * metricsCacheSeconds (10 s by default; a state change shows at once), so a counter moved by
 * the guest shows within that time, not necessarily on the next scrape.
 */
async function scrapeUntil(ok: (text: string) => boolean, what: string, each?: (ms: number) => void): Promise<string> {
  const deadline = Date.now() + scaled(40_000);
  for (;;) {
    const { text, ms } = await scrape();
    each?.(ms);
    if (ok(text)) return text;
    if (Date.now() > deadline) throw new Error(`/metrics never showed ${what}; last scrape:\n${text.split('\n').filter((l) => l.includes('vm="')).slice(0, 40).join('\n')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('/metrics with running guests', () => {
  it('has host, VM state, CPU and disk series', async () => {
    await setUp(['m1']);
    const text = await scrapeUntil((t) => (value(t, 'polyvisor_vm_vcpu_seconds_total{vm="m1",vcpu="0"}') ?? 0) > 0, 'vCPU time of m1');
    expect(value(text, 'polyvisor_vm_state{vm="m1",state="running"}')).toBe(1);
    expect(value(text, 'polyvisor_vm_state{vm="idle",state="created"}')).toBe(1);
    expect(value(text, 'polyvisor_vm_stats_up{vm="m1"}')).toBe(1);
    expect(value(text, 'polyvisor_vm_stats_up{vm="idle"}')).toBeUndefined();
    expect(value(text, 'polyvisor_vm_cpu_seconds_total{vm="m1"}')).toBeGreaterThan(0);
    expect(value(text, 'polyvisor_vm_vcpu_seconds_total{vm="m1",vcpu="0"}')).toBeGreaterThan(0);
    expect(value(text, 'polyvisor_vm_memory_rss_bytes{vm="m1"}')).toBeGreaterThan(10 * 1024 ** 2);
    expect(value(text, 'polyvisor_vm_disk_write_bytes_total{vm="m1",disk="data"}')).toBeGreaterThanOrEqual(0);
    expect(value(text, 'polyvisor_host_memory_total_bytes')).toBeGreaterThan(0);
    expect(value(text, 'polyvisor_pool_capacity_bytes{pool="default"}') ?? 1).toBeGreaterThan(0);
    expect(value(text, 'polyvisor_operations_total{kind="vm.start",outcome="succeeded"}')).toBe(2);
    expect(text).toMatch(/polyvisor_qmp_command_duration_seconds_count\{command="query-blockstats"\} \d+/);
  });

  it('a guest writing its disk raises its write bytes and ops; CPU time moves', async () => {
    await setUp(['m1']);
    const before = (await scrape()).text;
    const w0 = value(before, 'polyvisor_vm_disk_write_bytes_total{vm="m1",disk="data"}')!;
    const o0 = value(before, 'polyvisor_vm_disk_write_operations_total{vm="m1",disk="data"}')!;
    const c0 = value(before, 'polyvisor_vm_cpu_seconds_total{vm="m1"}')!;
    const out = await guestShell(d.client, 'm1', 'dd if=/dev/zero of=/dev/vda bs=1M count=8 2>&1; sync', limit('shell', 2));
    expect(out).toMatch(/8\+0 records out/);
    const after = await scrapeUntil((t) => value(t, 'polyvisor_vm_disk_write_bytes_total{vm="m1",disk="data"}')! - w0 >= 8 * 1024 ** 2, 'the 8 MiB written');
    expect(value(after, 'polyvisor_vm_disk_write_bytes_total{vm="m1",disk="data"}')! - w0).toBeGreaterThanOrEqual(8 * 1024 ** 2);
    expect(value(after, 'polyvisor_vm_disk_write_operations_total{vm="m1",disk="data"}')!).toBeGreaterThan(o0);
    expect(value(after, 'polyvisor_vm_cpu_seconds_total{vm="m1"}')!).toBeGreaterThan(c0);
  });

  it('a guest serving HTTP raises its NIC byte and packet counters (read through its guest agent)', async () => {
    await setUp(['m1']);
    const series = (dir: string, unit: string): string => `polyvisor_vm_network_${dir}_${unit}_total{vm="m1",nic="net0"}`;
    // The agent may come up after the readiness line; a guest whose agent did not answer is asked again 30 s later.
    let before = '';
    const deadline = Date.now() + scaled(45_000);
    for (let i = 0; Date.now() < deadline && value(before, series('transmit', 'bytes')) === undefined; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 1000));
      before = (await scrape()).text;
    }
    const tx0 = value(before, series('transmit', 'bytes'));
    expect(tx0).toBeDefined();
    const rxp0 = value(before, series('receive', 'packets'))!;
    let served = 0;
    for (let i = 0; i < 5; i++) served += (await getWithRetry(`http://127.0.0.1:${webPort}/`)).length;
    expect(served).toBeGreaterThan(0);
    const after = await scrapeUntil((t) => value(t, series('transmit', 'bytes'))! - tx0! >= served, 'the bytes served');
    expect(value(after, series('transmit', 'bytes'))! - tx0!).toBeGreaterThanOrEqual(served);
    expect(value(after, series('receive', 'packets'))!).toBeGreaterThan(rxp0);
    expect(value(after, 'polyvisor_vm_network_receive_bytes_total{vm="m2",nic="net0"}')).toBeUndefined(); // m2 has no NIC
  });

  it('a frozen QEMU costs the scrape its per-VM timeout, and shows as stats_up 0', async () => {
    await setUp();
    const pid = (await d.client.getVm('m2')).runtime!.pid;
    process.kill(pid, 'SIGSTOP');
    const times: number[] = [];
    try {
      const text = await scrapeUntil((t) => value(t, 'polyvisor_vm_stats_up{vm="m2"}') === 0, 'stats_up 0 for the frozen m2', (ms) => times.push(ms));
      expect(Math.max(...times)).toBeLessThan(5_000); // no scrape waits on the frozen monitor past its per-VM timeout
      expect(value(text, 'polyvisor_vm_stats_up{vm="m1"}')).toBe(1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await scrapeUntil((t) => value(t, 'polyvisor_vm_stats_up{vm="m2"}') === 1, 'stats_up 1 again for m2');
  });

  it('a backup shows as the VM\'s last backup timestamp', async () => {
    await setUp();
    const t0 = Date.now() / 1000;
    const r = await request({ socketPath: d.socket }, 'POST', '/v1/vms/m1/backups', {}, { timeoutMs: limit('operation') });
    expect(r.status, r.body).toBe(201);
    const at = value((await scrape()).text, 'polyvisor_vm_last_backup_success_timestamp_seconds{vm="m1"}');
    expect(at).toBeGreaterThanOrEqual(Math.floor(t0));
    expect(at).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  });

  it('needs a token on TCP; a viewer token may scrape', async () => {
    await setUp();
    expect((await httpCall(d.url, 'GET', '/metrics')).status).toBe(401);
    const ok = await httpCall(d.url, 'GET', '/metrics', { token: viewer });
    expect(ok.status).toBe(200);
    expect(String(ok.json)).toContain('polyvisor_vm_state{vm="m1",state="running"} 1');
    const { text } = await scrape();
    expect(value(text, 'polyvisor_api_requests_total{method="GET",route="/metrics",status="401"}')).toBe(1);
    expect(text).not.toMatch(/route="\/v1\/vms\/m1/); // route templates, not URLs
  });
});

describe('polyvisor top', () => {
  it('--once prints one frame with every VM, its state and rates', async () => {
    await setUp();
    const r = await runCli(['--socket', d.socket, 'top', '--once', '--interval', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^polyvisor top - .* VMs: 3 \(2 running\)/);
    expect(r.stdout).toMatch(/^VM\s+STATE\s+VCPUS\s+CPU\s+RSS/m);
    expect(r.stdout).toMatch(/^m1\s+running\s+1\s+\d+\.\d%\s+\d/m);
    expect(r.stdout).toMatch(/^idle\s+created\s+1\s+-/m);
    expect(r.stdout).not.toContain('\x1b'); // no screen control in --once
  });
});

describe('daemon logs', () => {
  it('are JSON lines with a level and a component, carry request ids, and never a token', async () => {
    await setUp();
    await httpCall(d.url, 'GET', '/v1/vms', { token: viewer });
    const lines = d.log().split('\n').filter((l) => l.trim());
    expect(lines.length).toBeGreaterThan(10);
    const parsed = lines.map((l) => JSON.parse(l) as { level?: number; component?: string; requestId?: string; msg?: string });
    for (const p of parsed) {
      expect(typeof p.level).toBe('number');
      expect(typeof p.component).toBe('string');
    }
    const reqs = parsed.filter((p) => p.msg === 'incoming request' || p.msg === 'request completed');
    expect(reqs.length).toBeGreaterThan(0);
    for (const r of reqs) expect(r.requestId).toMatch(/^req-/);
    // every line written while a request ran names it (requestId appears once per line, not twice)
    for (const l of lines.filter((x) => x.includes('"requestId"'))) expect(l.match(/"requestId"/g)).toHaveLength(1);
    const ops = parsed.filter((p) => p.msg === 'operation finished') as Array<{ op?: string; kind?: string; component?: string; status?: string }>;
    expect(ops.map((o) => [o.kind, o.status, o.component])).toEqual(expect.arrayContaining([['vm.start', 'succeeded', 'operations']]));
    for (const o of ops) expect(o.op).toMatch(/^op/);
    expect(d.log()).not.toContain(viewer.slice(8));
  });
});
