/** What the spec says, and what the VM is doing now. */
import { useStore } from '../api/store.js';
import type { VmView } from '../api/types.js';
import { Sparkline } from '../components/Sparkline.js';
import { bytes, last, pct, rate, when } from '../format.js';

export function VmDetails({ vm }: { vm: VmView }) {
  const r = useStore((s) => s.rates.get(vm.name));
  const s = vm.spec;
  const on = vm.state === 'running' || vm.state === 'paused';
  return (
    <div className="grid2">
      <div className="card">
        <h2>Spec</h2>
        <dl className="kv">
          <dt>Description</dt><dd>{s.description || '—'}</dd>
          <dt>CPU</dt><dd>{s.cpu.count} vCPU · {s.cpu.model}</dd>
          <dt>Memory</dt><dd>{bytes(s.memory)}</dd>
          <dt>Machine</dt><dd>{s.machine.type} · accel {s.machine.accel}</dd>
          <dt>Boot</dt><dd>{s.boot.firmware}{s.boot.kernel ? ` · kernel ${s.boot.kernel}` : ''}</dd>
          <dt>Disks</dt><dd>{s.disks.length ? s.disks.map((d) => `${d.name} (${d.media}, ${d.bus}${d.size ? `, ${bytes(Number(d.size))}` : ''})`).join(', ') : 'none'}</dd>
          <dt>Networks</dt><dd>{s.networks.length ? s.networks.map((n) => `${n.name} (${n.type}/${n.model})`).join(', ') : 'none'}</dd>
          <dt>Labels</dt><dd>{Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(', ') || '—'}</dd>
          <dt>Created</dt><dd>{when(vm.createdAt)}</dd>
        </dl>
        <details><summary>Full spec (JSON)</summary><pre className="code">{JSON.stringify(s, null, 2)}</pre></details>
      </div>
      <div className="card">
        <h2>Now</h2>
        <dl className="kv">
          <dt>Host</dt><dd>{vm.host}</dd>
          <dt>Process</dt><dd>{vm.runtime ? `pid ${vm.runtime.pid} · ${vm.runtime.accel} · QEMU ${vm.runtime.qemuVersion}` : '—'}</dd>
          <dt>Started</dt><dd>{when(vm.runtime?.startedAt)}</dd>
          <dt>CPU</dt><dd><span className="num">{on ? pct(last(r?.cpu)) : '—'}</span> <Sparkline values={on ? r?.cpu ?? [] : []} max={1} label="CPU" width={160} /></dd>
          <dt>Guest uses</dt><dd data-testid="guest-uses"><span className="num">{on ? (r?.guest != null ? bytes(r.guest) : r ? 'guest did not report' : '—') : '—'}</span> <span className="small muted">memory the guest OS reports in use (its balloon statistics), of {bytes(s.memory)}</span></dd>
          <dt>QEMU holds</dt><dd><span className="num">{on ? bytes(last(r?.mem)) : '—'}</span> <Sparkline values={on ? r?.mem ?? [] : []} max={s.memory * 1.25} label="memory" width={160} /> <span className="small muted">resident memory of the QEMU process on the host</span></dd>
          <dt>Disk I/O</dt><dd><span className="num">{on ? rate(last(r?.disk)) : '—'}</span> <Sparkline values={on ? r?.disk ?? [] : []} label="disk" width={160} /></dd>
          <dt>Network</dt><dd><span className="num">{on ? rate(last(r?.net)) : '—'}</span> <Sparkline values={on ? r?.net ?? [] : []} label="network" width={160} /></dd>
          <dt>Serial log</dt><dd className="small">{vm.files.serialLog}</dd>
        </dl>
      </div>
    </div>
  );
}
