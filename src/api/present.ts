import { actionsAllowedIn, type VmService } from '../lifecycle/index.js';
import type { VmView } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';

export function presentVm(service: VmService, rec: VmRecord): VmView {
  const files = service.files(rec);
  return {
    id: rec.id,
    name: rec.name,
    state: rec.state,
    stateReason: rec.stateReason,
    host: rec.host,
    spec: rec.spec,
    runtime: rec.runtime,
    actions: actionsAllowedIn(rec.state),
    createdAt: rec.createdAt,
    updatedAt: rec.updatedAt,
    files: { serialLog: files.serialLog, dir: files.serialLog.replace(/\/[^/]+$/, '') },
  };
}
