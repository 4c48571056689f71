import { describe, expect, it } from 'vitest';
import { formatRecord, textDestination } from './log-text.js';
import { createLogger, resolveLogFormat } from './logger.js';

function sink(): { out: { write(s: string): void }; text: () => string } {
  let buf = '';
  return { out: { write: (s: string) => void (buf += s) }, text: () => buf };
}

describe('text log lines', () => {
  it('shows time, level, component, message and the fields that matter', () => {
    const line = formatRecord({
      level: 30, time: '2026-12-04T14:06:34.388Z', component: 'lifecycle', requestId: 'req-1',
      vm: 'web', id: 'ae10', url: null, msg: 'vm created',
    });
    expect(line).toBe('14:06:34.388 INFO  lifecycle: vm created vm=web id=ae10');
  });

  it('leaves out the default component, quotes values with spaces, shortens long ones, shows an error by its message', () => {
    const line = formatRecord({
      level: 50, time: '2026-12-04T14:06:34.388Z', component: 'daemon', msg: 'start failed',
      reason: 'guest ignored ACPI', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' }, note: 'x'.repeat(200),
    });
    expect(line).toMatch(/^14:06:34\.388 ERROR start failed reason="guest ignored ACPI" err="boom" note=x{79}…$/);
    expect(line).not.toContain('stack');
  });

  it('colours the level only when asked', () => {
    expect(formatRecord({ level: 40, time: '2026-12-04T00:00:00.000Z', msg: 'm' }, { color: true })).toBe('00:00:00.000 \x1b[33mWARN \x1b[0m m');
    expect(formatRecord({ level: 40, time: '2026-12-04T00:00:00.000Z', msg: 'm' })).toBe('00:00:00.000 WARN  m');
  });

  it('turns a request pair into one line with method, URL, status and time', () => {
    const s = sink();
    const d = textDestination(s.out);
    d.write(`${JSON.stringify({ level: 30, time: '2026-12-04T14:06:34.230Z', requestId: 'r1', req: { method: 'POST', url: '/v1/vms' }, msg: 'incoming request' })}\n`);
    d.write(`${JSON.stringify({ level: 30, time: '2026-12-04T14:06:34.422Z', requestId: 'r1', res: { statusCode: 201 }, responseTime: 167.9, msg: 'request completed' })}\n`);
    expect(s.text()).toBe('14:06:34.422 INFO  api: POST /v1/vms 201 (168 ms)\n');
  });

  it('passes a line that is not JSON through unchanged', () => {
    const s = sink();
    textDestination(s.out).write('not json\n');
    expect(s.text()).toBe('not json\n');
  });

  it('never writes a secret, whatever the key\'s case or depth', () => {
    const s = sink();
    const log = createLogger('info', s.out as never, { format: 'text' });
    log.info({
      token: 'pv_s3cret1', apiToken: 'pv_s3cret2', headers: { authorization: 'Bearer pv_s3cret3', Cookie: 'sid=s3cret4' },
      user: { name: 'ann', password: 'hunter2' }, nested: { deeper: { clientSecret: 's3cret5' } }, vm: 'web',
    }, 'login');
    const text = s.text();
    expect(text).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}login /);
    expect(text).toContain('vm=web');
    for (const secret of ['pv_s3cret1', 'pv_s3cret2', 'pv_s3cret3', 's3cret4', 'hunter2', 's3cret5']) expect(text).not.toContain(secret);
  });

  it('is text on a terminal and JSON elsewhere unless told', () => {
    expect(resolveLogFormat('auto', true)).toBe('text');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('text', false)).toBe('text');
  });
});
