/** The mapped spec of an import, before it is confirmed: machine facts, then disks and NICs. Props only (no store, no router). */
import { mappingOf } from './mapping.js';
import type { FileImportView } from './types.js';

export function MappingView({ view }: { view: Pick<FileImportView, 'spec' | 'disks' | 'format'> }) {
  const m = mappingOf(view);
  return (
    <section className="card" data-testid="import-mapping" aria-labelledby="mapping-title">
      <h2 id="mapping-title">What the VM gets</h2>
      <dl className="kv">
        <dt>Read as</dt><dd data-field="format">{view.format}</dd>
        <dt>Name</dt><dd data-field="name">{m.name}</dd>
        <dt>CPUs</dt><dd data-field="cpu">{m.cpu}</dd>
        <dt>Memory</dt><dd data-field="memory">{m.memory}</dd>
        <dt>Firmware</dt><dd data-field="firmware">{m.firmware}</dd>
        <dt>Machine</dt><dd data-field="machine">{m.machine}</dd>
        <dt>SCSI controller</dt><dd data-field="scsi">{m.scsiController}</dd>
        <dt>Video</dt><dd data-field="video">{m.video}</dd>
        <dt>Guest OS</dt><dd data-field="os">{m.os}</dd>
      </dl>
      <h3>Disks</h3>
      {m.disks.length === 0 ? <p className="muted" data-testid="mapping-no-disks">No disks.</p> : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Mapped disks">
          <table className="table" data-testid="mapping-disks">
            <thead><tr><th>Name</th><th>Media</th><th>Bus</th><th>From</th><th>Found</th></tr></thead>
            <tbody>{m.disks.map((d) => (
              <tr key={d.name} data-disk={d.name} data-bus={d.bus}>
                <td>{d.name}</td><td>{d.media}</td><td>{d.bus}</td><td className="mono small">{d.source}</td>
                <td className={d.found === false ? 'warn' : ''}>{d.found === null ? '—' : d.found ? 'yes' : 'missing'}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <h3>Network adapters</h3>
      {m.nics.length === 0 ? <p className="muted" data-testid="mapping-no-nics">No network adapters.</p> : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Mapped network adapters">
          <table className="table" data-testid="mapping-nics">
            <thead><tr><th>Name</th><th>Model</th><th>MAC</th></tr></thead>
            <tbody>{m.nics.map((n) => (
              <tr key={n.name} data-nic={n.name} data-model={n.model}><td>{n.name}</td><td>{n.model}</td><td className="mono">{n.mac}</td></tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </section>
  );
}
