/** The host's CPU, memory and load over the last hour, 6 hours or day, from the daemon's history. */
import { useState } from 'react';
import { hostHistory, useHistory, type Range } from '../../api/history.js';
import { HistoryGraph } from '../../components/HistoryGraph.js';
import { RangePicker } from '../../components/RangePicker.js';
import { bytes } from '../../format.js';

export function HostGraphs({ host }: { host: string }) {
  const [range, setRange] = useState<Range>('1h');
  const { data, error } = useHistory(hostHistory, range, host);
  const pts = data?.points ?? [];
  const t = pts.map((p) => p.t);
  const total = pts.reduce((m, p) => Math.max(m, p.memTotalBytes ?? 0), 0);
  return (
    <section className="card graphs" aria-labelledby="host-graphs-title" data-testid="host-graphs">
      <div className="row wrap graphs-head">
        <h2 id="host-graphs-title">{host}: history</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {data === null && !error && <p className="muted" data-testid="no-history">No history yet: this daemon does not keep metrics history.</p>}
      {data && (
        <div className="graph-grid">
          <HistoryGraph id="host-cpu" title="CPU" t={t} format={(n) => `${n.toFixed(1)}%`} max={100} series={[{ label: 'CPU busy', meaning: 'of all the host\'s CPUs', values: pts.map((p) => p.cpuPercent), tone: 1 }]} />
          <HistoryGraph id="host-memory" title="Memory" t={t} format={bytes} max={total} series={[{ label: 'used', meaning: `of ${bytes(total)}: total minus what the kernel reports available`, values: pts.map((p) => p.memUsedBytes), tone: 2 }]} />
          <HistoryGraph id="host-load" title="Load" t={t} format={(n) => n.toFixed(2)} series={[{ label: 'load (1 min)', values: pts.map((p) => p.load1), tone: 3 }]} />
        </div>
      )}
    </section>
  );
}
