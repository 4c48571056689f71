/**
 * Parses qemu-img's `-p` progress, "    (12.34/100%)\r", from stdout chunks
 * that may split a token anywhere. Reports fractions 0..1, never going back.
 */
const TOKEN = /\((\d{1,3}(?:\.\d+)?)\/100%\)/g;

export function progressParser(onProgress: (fraction: number) => void): { push(chunk: string): void; done(): void } {
  let buf = '';
  let last = -1;
  const emit = (f: number): void => {
    const clamped = Math.min(1, Math.max(0, f));
    if (clamped <= last) return;
    last = clamped;
    onProgress(clamped);
  };
  return {
    push(chunk) {
      buf += chunk;
      let end = 0;
      for (const m of buf.matchAll(TOKEN)) {
        emit(Number(m[1]) / 100);
        end = m.index + m[0].length;
      }
      buf = buf.slice(end);
      if (buf.length > 256) buf = buf.slice(-64); // noise without tokens
    },
    /** Call once the conversion succeeded: reports 1 if qemu-img did not. */
    done() {
      emit(1);
    },
  };
}
