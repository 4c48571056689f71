/** A VM's CPU, memory, disk and network over the last hour, 6 hours or day, from the daemon's history. */
import { useState } from 'react';
import { useHistory, vmHistory, type Range } from '../../api/history.js';
import type { VmView } from '../../api/types.js';
import { HistoryGraph } from '../../components/HistoryGraph.js';
import { RangePicker } from '../../components/RangePicker.js';
import { bytes } from '../../format.js';

const percent = (n: number): string => `${n.toFixed(n < 10 ? 1 : 0)}%`;
const perSecond = (n: number): string => `${bytes(n)}/s`;

export function VmGraphs({ vm }: { vm: VmView }) {
  const [range, setRange] = useState<Range>('1h');
  const { data, error } = useHistory((r) => vmHistory(vm.name, r), range, vm.name);
  const pts = data?.points ?? [];
  const t = pts.map((p) => p.t);
  const col = <K extends keyof (typeof pts)[number]>(k: K) => pts.map((p) => p[k] as number | null);
  return (
    <section className="card graphs" aria-labelledby="graphs-title" data-testid="vm-graphs">
      <div className="row wrap graphs-head">
        <h2 id="graphs-title">History</h2>
        <RangePicker value={range} onChange={setRange} />
        <span className="small muted" role="status">{data === undefined ? 'Loading…' : data ? `${pts.length} points, one every ${data.stepSeconds} s` : ''}</span>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {data === null && !error && <p className="muted" data-testid="no-history">No history yet: this daemon does not keep metrics history. The live figures above come from the stats stream.</p>}
      {data && (
        <div className="graph-grid">
          <HistoryGraph id="cpu" title="CPU" t={t} format={percent} max={100}
            series={[{ label: 'CPU', meaning: 'of the VM\'s vCPUs, as the host schedules QEMU', values: col('cpuPercent'), tone: 1 }]} />
          <HistoryGraph id="memory" title="Memory" t={t} format={bytes} max={vm.spec.memory}
            series={[
              { label: 'guest uses', meaning: 'memory the guest OS reports in use: its total less what it has available (virtio-balloon statistics)', values: col('memGuestUsedBytes'), tone: 1, missing: 'guest did not report' },
              { label: 'QEMU holds on host', meaning: 'resident memory of the QEMU process: guest RAM it touched plus QEMU\'s own', values: col('memHostBytes'), tone: 2 },
            ]} />
          <HistoryGraph id="disk" title="Disk I/O" t={t} format={perSecond}
            series={[{ label: 'read', values: col('diskReadBps'), tone: 1 }, { label: 'write', values: col('diskWriteBps'), tone: 2 }]} />
          <HistoryGraph id="network" title="Network" t={t} format={perSecond}
            series={[{ label: 'received', values: col('netRxBps'), tone: 1 }, { label: 'sent', values: col('netTxBps'), tone: 2 }]} />
        </div>
      )}
    </section>
  );
}
