/**
 * A small status page at / until the full web UI (its own issue) lands: it
 * reads the public API like any script would and refreshes every 2 s.
 */
import type { FastifyInstance } from 'fastify';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Polyvisor</title>
<style>
body{font:15px system-ui,sans-serif;margin:2rem;color:#1d2430;background:#f6f7f9}
h1{font-size:1.3rem}table{border-collapse:collapse;width:100%;max-width:60rem;background:#fff}
th,td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid #e3e6ea}
.s-running{color:#0a7d32}.s-paused,.s-suspended{color:#a86b00}.s-stopped,.s-created{color:#59606b}.s-error{color:#b3261e}
</style></head><body>
<h1>Polyvisor</h1><p id="host"></p>
<table><thead><tr><th>Name</th><th>State</th><th>vCPUs</th><th>Memory</th><th>Accel</th><th>Reason</th></tr></thead><tbody id="vms"></tbody></table>
<script>
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
let asked = false;
const auth = () => { const t = localStorage.getItem('pvToken'); return t ? { authorization: 'Bearer ' + t } : {}; };
async function refresh() {
  try {
    const r = await fetch('/v1/vms', { headers: auth() });
    if (r.status === 401 && !asked) { asked = true; const t = prompt('API token (polyvisor token create NAME --role viewer)'); if (t) { localStorage.setItem('pvToken', t.trim()); return refresh(); } }
    if (!r.ok) { document.getElementById('host').textContent = 'HTTP ' + r.status + ': an API token is needed'; return; }
    const [h, vms] = await Promise.all([fetch('/v1/health').then(r => r.json()), r.json()]);
    document.getElementById('host').textContent = 'Host ' + h.host + ' · polyvisord ' + h.version;
    document.getElementById('vms').innerHTML = vms.map(v => '<tr><td>' + esc(v.name) + '</td><td class="s-' + esc(v.state) + '">' + esc(v.state) +
      '</td><td>' + v.spec.cpu.count + '</td><td>' + Math.round(v.spec.memory / 1048576) + ' MiB</td><td>' + esc(v.runtime ? v.runtime.accel : '-') +
      '</td><td>' + esc(v.stateReason) + '</td></tr>').join('') || '<tr><td colspan="6">No VMs yet: polyvisor vm create</td></tr>';
  } catch (e) { document.getElementById('host').textContent = 'daemon unreachable'; }
}
refresh(); setInterval(refresh, 2000);
</script></body></html>`;

export function uiRoutes(app: FastifyInstance): void {
  app.get('/', { config: { permission: 'public', doc: { summary: 'Status page (its data calls need a token over TCP)', tags: ['system'] } } }, async (_req, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'").send(PAGE));
}
