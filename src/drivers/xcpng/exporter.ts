/**
 * move.toLocal: each disk of a halted VM streamed as a VHD through XAPI's
 * HTTP handler GET /export_raw_vdi?session_id=…&vdi=REF&format=vhd (the VHD
 * is what XAPI streams without converting on the host; qemu-img reads it as
 * "vpc"). A connection lost mid-stream is ENDPOINT_LOST, so the import
 * stops and removes what it staged.
 */
import { Transform } from 'node:stream';
import { PolyvisorError } from '../../shared/index.js';
import type { ExportableDisk, ForeignExporter } from '../endpoint.js';
import type { XcpContext } from './context.js';
import { diskLabel, diskVbds, toSpec } from './map.js';
import { int } from './records.js';

export function exporterPart(x: XcpContext): ForeignExporter {
  return {
    async disks(vm, signal): Promise<ExportableDisk[]> {
      const { rec } = await x.resolve(vm, signal);
      if (rec.power_state !== 'Halted') throw new PolyvisorError('FOREIGN_VM_RUNNING', `VM ${vm} is ${rec.power_state.toLowerCase()}: its disks are copied only while it is halted`);
      const recs = await x.records(signal);
      return diskVbds(rec, recs).map((b) => {
        const what = `download of disk ${diskLabel(b)} of ${vm}`;
        return {
          name: diskLabel(b),
          sizeBytes: int(recs.vdis[b.VDI]?.virtual_size),
          format: 'vpc',
          open: async (sig) => {
            const res = await x.client.httpGet('/export_raw_vdi', { vdi: b.VDI, format: 'vhd' }, sig, what);
            const out = new Transform({ transform: (c: Buffer, _e, cb) => cb(null, c) });
            const lost = (err?: unknown): void => {
              if (!out.destroyed) out.destroy(new PolyvisorError('ENDPOINT_LOST', `XCP-ng endpoint ${x.endpoint} went away during the ${what}`, { cause: err }));
            };
            res.on('aborted', () => lost());
            res.on('error', lost);
            res.on('end', () => {
              if (!res.complete) lost();
            });
            res.pipe(out);
            return out;
          },
        };
      });
    },
    async toSpec(vm, signal) {
      const { rec } = await x.resolve(vm, signal);
      return toSpec(rec, await x.records(signal));
    },
  };
}
