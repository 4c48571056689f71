/**
 * Proof that a VM never runs on two hosts at once, from inside the guest: a
 * writer started in the guest's shell appends one record a 0.2 s to a raw disk
 * on the shared storage — `HB <host> <boot id> <counter> <seen>`, one per
 * 512-byte sector, fsynced. Each run (a boot, on one host) first finds the
 * last record already on the disk (`seen`, its sector) and writes its own
 * from two pages further on, so an earlier run that still wrote after this
 * one started would leave a record past `seen`: the check finds it. Without
 * overlap the disk holds, in sector order, one block per run, its counter
 * going 0, 1, 2… without a gap.
 */
import { readFileSync } from 'node:fs';
import type { PolyvisorClient } from '../../src/client/index.js';
import { limit } from './limits.js';

export interface RunRecord {
  sector: number;
  host: string;
  boot: string;
  counter: number;
  seen: number;
}

export interface Run {
  host: string;
  boot: string;
  first: number;
  last: number;
  records: number;
  /** The last sector written before this run started (-1 on a blank disk). */
  seen: number;
}

const SECTOR = 512;

/** Starts the writer in the guest (its only virtio disk, /dev/vda, is the log); it runs until the guest dies. */
export async function startRunLog(client: PolyvisorClient, vm: string, host: string): Promise<void> {
  if (!/^[a-z0-9-]{1,16}$/.test(host)) throw new Error(`host ${host}: a short plain name goes into the guest's shell`);
  const script = [
    'd=/dev/vda; b=$(cut -c1-8 /proc/sys/kernel/random/boot_id)',
    'o=$(busybox strings -t d -n 8 $d | grep " HB " | tail -n 1 | awk \'{print $1}\')',
    'if [ -n "$o" ]; then seen=$((o / 512)); s=$(( (o / 4096 + 2) * 8 )); else seen=-1; s=0; fi',
    'i=0; while :; do',
    `  printf "HB %s %s %06d %d\\n" ${host} $b $i $seen | dd of=$d bs=512 seek=$s conv=notrunc,sync,fsync 2>/dev/null`,
    '  s=$((s + 1)); i=$((i + 1)); usleep 200000',
    'done',
  ].join('\n') + '\n';
  const b64 = Buffer.from(script).toString('base64');
  const shell = await openShell(client, vm);
  let out: string;
  try {
    // Right after READY the serial shell may not read yet (what is typed before it starts is dropped): ask until it answers.
    for (let tries = 1; ; tries++) {
      try {
        await shell.run('echo ready', limit('shell') / 4);
        break;
      } catch (err) {
        if (tries >= 4) throw err;
      }
    }
    // The script goes in as base64 in short pieces, through one console connection.
    await shell.run('rm -f /run/run-log.b64');
    for (let i = 0; i < b64.length; i += 120) await shell.run(`echo -n ${b64.slice(i, i + 120)} >> /run/run-log.b64`);
    // A second writer in one run is refused by its marker file, so a retried command cannot start two.
    out = await shell.run('base64 -d /run/run-log.b64 > /run/run-log.sh && ! test -e /run/run-log && touch /run/run-log && { sh /run/run-log.sh >/dev/null 2>&1 & } && echo run-log-started');
  } finally {
    shell.close();
  }
  if (!out.includes('run-log-started')) throw new Error(`${vm}: the run log writer did not start (no /dev/vda?): ${out}`);
}

/**
 * One console connection for several commands. (test/helpers/shell.ts opens one per command; a second connection
 * opened right after the first closed got no output here: the daemon's console hub was still closing the first's
 * upstream.)
 */
async function openShell(client: PolyvisorClient, vm: string): Promise<{ run(command: string, timeoutMs?: number): Promise<string>; close(): void }> {
  const ws = client.openConsole(vm);
  let out = '';
  ws.on('message', (b: Buffer) => (out += b.toString()));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  let seq = 0;
  return {
    async run(command, timeoutMs = limit('shell')) {
      const tag = `rl${Date.now().toString(36)}${++seq}`;
      // The markers are built by the shell (${x}), so the echoed command line never matches them.
      ws.send(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x"\n`);
      const re = new RegExp(`BEGIN-${tag}\\r?\\n([\\s\\S]*?)END-${tag}`);
      for (const deadline = Date.now() + timeoutMs; ;) {
        const m = re.exec(out);
        if (m) return m[1]!.replace(/\r/g, '');
        if (Date.now() > deadline) throw new Error(`${vm}: no answer to ${JSON.stringify(command)} within ${timeoutMs} ms; console:\n${out.slice(-1500)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => ws.close(),
  };
}

/** The records on the log disk (read from its raw image on the host), in sector order. */
export function readRunLog(image: string): RunRecord[] {
  const buf = readFileSync(image);
  const out: RunRecord[] = [];
  for (let off = 0; off + SECTOR <= buf.length; off += SECTOR) {
    if (buf[off] !== 0x48) continue; // 'H'
    const m = /^HB (\S+) ([0-9a-f]{8}) (\d+) (-?\d+)\n/.exec(buf.subarray(off, off + 64).toString('latin1'));
    if (m) out.push({ sector: off / SECTOR, host: m[1]!, boot: m[2]!, counter: Number(m[3]), seen: Number(m[4]) });
  }
  return out;
}

/** Splits the records into runs and throws if two runs overlapped (or a run's records are not whole). */
export function runsOf(records: readonly RunRecord[]): Run[] {
  const runs: Run[] = [];
  for (const r of records) {
    const cur = runs[runs.length - 1];
    if (cur && cur.boot === r.boot) {
      if (r.counter !== cur.records || r.sector !== cur.last + 1) throw new Error(`run ${cur.host}/${cur.boot}: record ${r.counter} at sector ${r.sector} after ${cur.records} records ending at ${cur.last}: a gap or a record overwritten`);
      cur.last = r.sector;
      cur.records++;
      continue;
    }
    if (runs.some((x) => x.boot === r.boot)) throw new Error(`run ${r.host}/${r.boot} wrote at sector ${r.sector} after another run had started: two runs at once`);
    if (r.counter !== 0) throw new Error(`run ${r.host}/${r.boot} starts with record ${r.counter} at sector ${r.sector}: its first records were overwritten`);
    runs.push({ host: r.host, boot: r.boot, first: r.sector, last: r.sector, records: 1, seen: r.seen });
  }
  for (let k = 1; k < runs.length; k++) {
    const prev = runs[k - 1]!;
    // What run k saw as the last record when it started must be the previous run's last: nothing was written after.
    if (runs[k]!.seen !== prev.last) throw new Error(`run ${runs[k]!.host}/${runs[k]!.boot} started after sector ${runs[k]!.seen}, but run ${prev.host}/${prev.boot} went on to sector ${prev.last}: two runs at once`);
  }
  return runs;
}
