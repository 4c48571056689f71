/**
 * A small PowerShell reader for Hyper-V provisioning scripts: it splits a
 * script into commands with their named parameters and never runs anything.
 * It knows comments (`#`, `<# #>`), backtick line continuations, `;`, pipes
 * and braces as statement breaks, quoted strings ('…' literal, "…" with `$var`
 * interpolation), numbers with PowerShell's KB/MB/GB/TB suffixes, `-Switch`,
 * `-Param:value`, and `$var = literal` assignments (so `New-VM -Name $VMName`
 * reads). Anything else (expressions, sub-expressions, unknown variables) is
 * an Unknown value the caller reports. Pure.
 */

export type PsValue = string | number | boolean | { unknown: string };

export interface PsCommand {
  /** The command name without a module prefix (`Hyper-V\New-VM` → New-VM). */
  name: string;
  /** Named parameters, keys lower-cased without the dash. A switch without a value is true. */
  params: Map<string, PsValue>;
  positional: PsValue[];
  line: number;
}

type Tok =
  | { t: 'word'; v: string; line: number }
  | { t: 'param'; v: string; inline?: string; line: number }
  | { t: 'value'; v: PsValue; line: number }
  | { t: 'var'; v: string; line: number }
  | { t: 'sep'; line: number }
  | { t: 'op'; v: string; line: number };

const SUFFIX: Record<string, number> = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4, pb: 1024 ** 5 };

export function isUnknown(v: PsValue | undefined): v is { unknown: string } {
  return typeof v === 'object' && v !== null;
}

function tokenize(src: string, vars: Map<string, PsValue>): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') { out.push({ t: 'sep', line }); line++; i++; continue; }
    if (c === '`' && (src[i + 1] === '\n' || (src[i + 1] === '\r' && src[i + 2] === '\n'))) { i += src[i + 1] === '\r' ? 3 : 2; line++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    if (c === '<' && src[i + 1] === '#') {
      const end = src.indexOf('#>', i + 2);
      const stop = end < 0 ? n : end + 2;
      line += (src.slice(i, stop).match(/\n/g) ?? []).length;
      i = stop;
      continue;
    }
    if (c === '#') { while (i < n && src[i] !== '\n') i++; continue; }
    if (c === ';' || c === '|' || c === '{' || c === '}') { out.push({ t: 'sep', line }); i++; continue; }
    if (c === "'") {
      let s = '';
      i++;
      while (i < n) {
        if (src[i] === "'" && src[i + 1] === "'") { s += "'"; i += 2; continue; }
        if (src[i] === "'") break;
        if (src[i] === '\n') line++;
        s += src[i++];
      }
      i++;
      out.push({ t: 'value', v: s, line });
      continue;
    }
    if (c === '"') {
      const start = line;
      let raw = '';
      i++;
      while (i < n && src[i] !== '"') {
        if (src[i] === '`' && i + 1 < n) { raw += src[i] + src[i + 1]!; i += 2; continue; }
        if (src[i] === '\n') line++;
        raw += src[i++];
      }
      i++;
      out.push({ t: 'value', v: interpolate(raw, vars), line: start });
      continue;
    }
    if (c === '$') {
      const m = /^\$(?:\{([^}]+)\}|([A-Za-z_][\w:]*))/.exec(src.slice(i));
      if (m) { out.push({ t: 'var', v: (m[1] ?? m[2]!).toLowerCase(), line }); i += m[0].length; continue; }
      out.push({ t: 'op', v: '$', line });
      i++;
      continue;
    }
    if (c === '-' && /[A-Za-z]/.test(src[i + 1] ?? '') && (i === 0 || /[\s(;|{]/.test(src[i - 1]!))) {
      const m = /^-([A-Za-z][\w]*)(?::(\S+))?/.exec(src.slice(i))!;
      out.push({ t: 'param', v: m[1]!.toLowerCase(), ...(m[2] === undefined ? {} : { inline: m[2] }), line });
      i += m[0].length;
      continue;
    }
    if ('()=,@[]'.includes(c)) { out.push({ t: 'op', v: c, line }); i++; continue; }
    const m = /^[^\s;|{}()=,'"`#]+/.exec(src.slice(i))!;
    const word = m[0];
    i += word.length;
    const num = /^(\d+(?:\.\d+)?)(kb|mb|gb|tb|pb)?$/i.exec(word);
    if (num) out.push({ t: 'value', v: Number(num[1]) * (num[2] ? SUFFIX[num[2].toLowerCase()]! : 1), line });
    else out.push({ t: 'word', v: word, line });
  }
  return out;
}

/** "…" text: backtick escapes, $var and ${var} from known literals; anything else makes it Unknown. */
function interpolate(raw: string, vars: Map<string, PsValue>): PsValue {
  let unknown = false;
  const s = raw.replace(/`(.)|\$\(|\$(?:\{([^}]+)\}|([A-Za-z_]\w*))/g, (m, esc: string | undefined, braced: string | undefined, plain: string | undefined) => {
    if (esc !== undefined) return ({ n: '\n', t: '\t', '0': '\0' } as Record<string, string>)[esc] ?? esc;
    if (m === '$(') { unknown = true; return m; }
    const name = (braced ?? plain!).toLowerCase();
    if (name === 'psscriptroot') return '.';
    const v = vars.get(name);
    if (v === undefined || isUnknown(v)) { unknown = true; return m; }
    return String(v);
  });
  return unknown ? { unknown: raw } : s;
}

function valueOf(tok: Tok | undefined, vars: Map<string, PsValue>): PsValue | undefined {
  if (tok === undefined) return undefined;
  if (tok.t === 'value') return tok.v;
  if (tok.t === 'word') return tok.v;
  if (tok.t === 'var') {
    if (tok.v === 'true') return true;
    if (tok.v === 'false') return false;
    if (tok.v === 'psscriptroot') return '.';
    return vars.get(tok.v) ?? { unknown: `$${tok.v}` };
  }
  return undefined;
}

const VARIABLE_NAME = /^[a-z_][\w:]*$/;

/** The commands of a script, in order; `$x = literal` assignments are applied as they come. */
export function readPowerShell(src: string): PsCommand[] {
  const vars = new Map<string, PsValue>();
  const cmds: PsCommand[] = [];
  // Tokenize statement by statement so an assignment is known to the lines after it.
  const statements = splitStatements(tokenize(src, new Map()));
  for (const raw of statements) {
    // Re-read string tokens with the variables known so far (interpolation).
    const toks = retokenize(raw, src, vars);
    if (toks.length === 0) continue;
    const first = toks[0]!;
    if (first.t === 'var' && toks[1]?.t === 'op' && toks[1].v === '=') {
      const v = toks.length === 3 ? valueOf(toks[2], vars) : undefined;
      if (VARIABLE_NAME.test(first.v)) vars.set(first.v, v ?? { unknown: `$${first.v}` });
      continue;
    }
    if (first.t !== 'word' || !/^[A-Za-z]+-[A-Za-z]+$/.test(first.v.replace(/^[\w-]+\\/, ''))) continue;
    const cmd: PsCommand = { name: first.v.replace(/^[\w-]+\\/, ''), params: new Map(), positional: [], line: first.line };
    for (let k = 1; k < toks.length; k++) {
      const t = toks[k]!;
      if (t.t === 'param') {
        if (t.inline !== undefined) {
          const inl = tokenize(t.inline, vars)[0];
          cmd.params.set(t.v, valueOf(inl, vars) ?? { unknown: t.inline });
          continue;
        }
        const next = toks[k + 1];
        if (next === undefined || next.t === 'param') { cmd.params.set(t.v, true); continue; }
        if (next.t === 'op') { cmd.params.set(t.v, { unknown: 'an expression' }); k = skipExpression(toks, k + 1); continue; }
        cmd.params.set(t.v, valueOf(next, vars)!);
        k++;
        continue;
      }
      if (t.t === 'op') { cmd.positional.push({ unknown: 'an expression' }); k = skipExpression(toks, k) - 1; continue; }
      cmd.positional.push(valueOf(t, vars)!);
    }
    cmds.push(cmd);
  }
  return cmds;
}

function splitStatements(toks: Tok[]): Tok[][] {
  const out: Tok[][] = [[]];
  for (const t of toks) {
    if (t.t === 'sep') { if (out[out.length - 1]!.length > 0) out.push([]); continue; }
    out[out.length - 1]!.push(t);
  }
  return out.filter((s) => s.length > 0);
}

/** String tokens were read before the variables were known: interpolate them again now. */
function retokenize(toks: Tok[], _src: string, vars: Map<string, PsValue>): Tok[] {
  return toks.map((t) => (t.t === 'value' && isUnknown(t.v) ? { ...t, v: interpolate(t.v.unknown, vars) } : t));
}

/** Skips a parenthesised or bracketed expression starting at k; returns the index of its last token. */
function skipExpression(toks: Tok[], k: number): number {
  let depth = 0;
  for (let j = k; j < toks.length; j++) {
    const t = toks[j]!;
    if (t.t === 'op' && (t.v === '(' || t.v === '[')) depth++;
    else if (t.t === 'op' && (t.v === ')' || t.v === ']')) depth--;
    if (depth <= 0 && !(t.t === 'op' && (t.v === '@' || t.v === '$'))) return j;
  }
  return toks.length - 1;
}
