import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stopWaitText, waitNotice } from './wait-notice.js';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

function sink(isTTY: boolean) {
  let text = '';
  return { stream: { isTTY, write: (s: string) => void (text += s) }, text: () => text };
}

describe('wait notice', () => {
  it('names what it waits for, the time left and the command that ends the wait', () => {
    expect(stopWaitText('web', 30, 12.4)).toBe('waiting for web to power off (ACPI power button), 12 s so far; 18 s more, then killed. `polyvisor vm kill web` stops it at once.');
    expect(stopWaitText('web', undefined, 3)).toMatch(/until the stop timeout .* `polyvisor vm kill web` stops it at once\.$/);
  });

  it('says nothing when the call returns quickly', () => {
    const s = sink(false);
    const n = waitNotice({ text: () => 'waiting', stream: s.stream, afterMs: 2000 });
    vi.advanceTimersByTime(1500);
    n.done();
    vi.advanceTimersByTime(5000);
    expect(s.text()).toBe('');
  });

  it('prints one line off a terminal, and a countdown it clears on a terminal', () => {
    const plain = sink(false);
    const a = waitNotice({ text: (w) => `waited ${Math.round(w)}`, stream: plain.stream, afterMs: 2000 });
    vi.advanceTimersByTime(5000);
    a.done();
    expect(plain.text()).toBe('waited 2\n');

    const tty = sink(true);
    const b = waitNotice({ text: (w) => `waited ${Math.round(w)}`, stream: tty.stream, afterMs: 2000 });
    vi.advanceTimersByTime(4000);
    b.done();
    expect(tty.text()).toBe('\r\x1b[Kwaited 2\r\x1b[Kwaited 3\r\x1b[Kwaited 4\r\x1b[K');
  });
});
