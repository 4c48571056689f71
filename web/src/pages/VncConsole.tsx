/** The VM's graphical display in the page: noVNC on the VNC WebSocket (needs spec display.vnc). */
import RFB from '@novnc/novnc';
import { useEffect, useRef, useState } from 'react';
import { enc, token } from '../api/client.js';
import { useCan } from '../api/store.js';
import type { VmView } from '../api/types.js';

export default function VncConsole({ vm }: { vm: VmView }) {
  const box = useRef<HTMLDivElement>(null);
  const rfb = useRef<RFB | null>(null);
  const [status, setStatus] = useState('connecting');
  const allowed = useCan('vm:console');
  const live = vm.state === 'running' || vm.state === 'paused';
  const hasVnc = Boolean((vm.spec as { display?: { vnc?: boolean } }).display?.vnc);

  useEffect(() => {
    if (!allowed || !live || !hasVnc || !box.current) return;
    const url = new URL(`/v1/vms/${enc(vm.name)}/vnc`, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const r = new RFB(box.current, url.toString(), { wsProtocols: [`bearer.${token.get() ?? ''}`] });
    r.scaleViewport = true;
    r.addEventListener('connect', () => setStatus('connected'));
    r.addEventListener('disconnect', () => setStatus('disconnected'));
    rfb.current = r;
    return () => {
      r.disconnect();
      rfb.current = null;
    };
  }, [vm.name, allowed, live, hasVnc]);

  if (!allowed) return <p className="muted">Your role may not attach to consoles.</p>;
  if (!hasVnc) return <p className="muted">This VM has no graphical display. Set <code>display: {'{ vnc: true }'}</code> in its spec to get one.</p>;
  if (!live) return <p className="muted">The display is there while the VM runs. It is {vm.state}.</p>;
  return (
    <div>
      <div className="row"><span className="muted small" role="status">Display: {status}</span>
        <button type="button" onClick={() => rfb.current?.sendCtrlAltDel()}>Send Ctrl+Alt+Del</button></div>
      <div className="vnc" ref={box} data-testid="vnc-display" />
    </div>
  );
}
