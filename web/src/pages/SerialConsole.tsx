/** The VM's serial console in the page: xterm.js on the console WebSocket (binary frames both ways). */
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { api, enc, openSocket } from '../api/client.js';
import { useCan } from '../api/store.js';
import type { VmView } from '../api/types.js';

export default function SerialConsole({ vm }: { vm: VmView }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState('connecting');
  const allowed = useCan('vm:console');
  const live = vm.state === 'running' || vm.state === 'paused';

  useEffect(() => {
    if (!allowed || !live || !box.current) return;
    const term = new Terminal({ cols: 100, rows: 30, convertEol: false, cursorBlink: true, scrollback: 5000, fontSize: 14 });
    term.open(box.current);
    let closed = false;
    let ws: WebSocket | null = null;
    const te = new TextEncoder();
    const sub = term.onData((d) => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(te.encode(d));
    });
    // The end of the serial log first, then the live console: in that order, so nothing shows twice or out of order.
    void api<string>('GET', `/v1/vms/${enc(vm.name)}/serial-log?bytes=8192`).then((log) => {
      if (!closed && typeof log === 'string' && log) term.write(log.replace(/\r?\n/g, '\r\n'));
    }, () => undefined).finally(() => {
      if (closed) return;
      term.write('\r\n\x1b[2m-- attached --\x1b[0m\r\n');
      const sock = openSocket(`/v1/vms/${enc(vm.name)}/console`);
      ws = sock;
      sock.binaryType = 'arraybuffer';
      sock.onopen = () => {
        setStatus('attached');
        sock.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
        term.focus();
      };
      sock.onmessage = (m) => {
        if (m.data instanceof ArrayBuffer) term.write(new Uint8Array(m.data));
      };
      sock.onclose = (e) => {
        if (!closed) setStatus(`closed${e.reason ? `: ${e.reason}` : ''}`);
      };
    });
    return () => {
      closed = true;
      sub.dispose();
      ws?.close();
      term.dispose();
    };
  }, [vm.name, allowed, live]);

  if (!allowed) return <p className="muted">Your role may not attach to consoles.</p>;
  if (!live) return <p className="muted">The console is there while the VM runs. It is {vm.state}.</p>;
  return (
    <div>
      <p className="muted small" role="status">Serial console: {status}. Type here; your keys go to the guest.</p>
      <div className="terminal" ref={box} data-testid="serial-console" />
    </div>
  );
}
