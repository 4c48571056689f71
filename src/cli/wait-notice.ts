/**
 * Says what a long call waits for, instead of silence: after `afterMs`, one line on stderr (a
 * countdown refreshed in place on a terminal), cleared when the call returns.
 */

export interface WaitNotice {
  done(): void;
}

export interface WaitNoticeOptions {
  /** The line, given the seconds waited so far. */
  text: (waitedS: number) => string;
  afterMs?: number;
  stream?: { write(s: string): unknown; isTTY?: boolean };
  now?: () => number;
}

/** What `vm stop NAME` prints while the guest has not powered off yet. Pure. */
export function stopWaitText(name: string, timeoutS: number | undefined, waitedS: number): string {
  const left = timeoutS === undefined ? 'until the stop timeout (60 s unless the daemon sets another), then killed' : `${Math.max(0, Math.round(timeoutS - waitedS))} s more, then killed`;
  return `waiting for ${name} to power off (ACPI power button), ${Math.round(waitedS)} s so far; ${left}. `
    + `\`polyvisor vm kill ${name}\` stops it at once.`;
}

export function waitNotice(o: WaitNoticeOptions): WaitNotice {
  const stream = o.stream ?? process.stderr;
  const now = o.now ?? Date.now;
  const t0 = now();
  let shown = false;
  let ticker: NodeJS.Timeout | undefined;
  const show = () => {
    const line = o.text((now() - t0) / 1000);
    if (stream.isTTY) stream.write(`\r\x1b[K${line}`);
    else if (!shown) stream.write(`${line}\n`);
    shown = true;
  };
  const first = setTimeout(() => {
    show();
    if (stream.isTTY) ticker = setInterval(show, 1000);
  }, o.afterMs ?? 2000);
  return {
    done() {
      clearTimeout(first);
      if (ticker) clearInterval(ticker);
      if (shown && stream.isTTY) stream.write('\r\x1b[K');
    },
  };
}
