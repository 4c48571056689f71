/**
 * The daemon's verdict on the draft, as the user types: POST /v1/specs/validate
 * (the create's own checks and messages, without creating) 400 ms after the
 * last change. An answer that arrives after a newer request was sent is
 * dropped, so a slow reply never shows stale messages.
 */
import { useEffect, useRef, useState } from 'react';
import { api, errorText } from '../../api/client.js';

export interface SpecProblem { field: string; message: string; code: string }
interface SpecCheck { valid: boolean; problems: SpecProblem[] }

export const CHECK_DELAY_MS = 400;

/** `enabled` false (nothing typed yet): no request and no problems. */
export function useSpecCheck(spec: Record<string, unknown>, enabled: boolean): { problems: SpecProblem[]; checking: boolean; error: string } {
  const [result, setResult] = useState<{ problems: SpecProblem[]; error: string }>({ problems: [], error: '' });
  const [checking, setChecking] = useState(false);
  const seq = useRef(0);
  const body = JSON.stringify(spec);
  useEffect(() => {
    if (!enabled) return;
    const mine = ++seq.current;
    setChecking(true);
    const timer = setTimeout(() => {
      api<SpecCheck>('POST', '/v1/specs/validate', { spec: JSON.parse(body) as unknown }).then(
        (r) => { if (mine === seq.current) setResult({ problems: r.problems, error: '' }); },
        (err: unknown) => { if (mine === seq.current) setResult({ problems: [], error: errorText(err) }); },
      ).finally(() => { if (mine === seq.current) setChecking(false); });
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [body, enabled]);
  return { ...(enabled ? result : { problems: [], error: '' }), checking: enabled && checking };
}
