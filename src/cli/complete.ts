/**
 * What to offer for the word being completed, from commander's own command tree: verbs, flags,
 * and names (VMs, snapshots, pools, remotes) from `sources`. Words are what follows `polyvisor`,
 * the last one being the (possibly empty) word under the cursor.
 */
import type { Command, Option } from 'commander';
import type { GlobalOptions } from './context.js';

export interface CompletionSources {
  vms(): Promise<string[]>;
  snapshots(vm: string): Promise<string[]>;
  pools(): Promise<string[]>;
  remotes(): Promise<string[]>;
}

export interface ParsedWords {
  /** The deepest command named so far. */
  cmd: Command;
  /** Its path from the root, e.g. ["snapshot", "rm"]. */
  path: string[];
  /** Positional arguments given to `cmd` so far. */
  args: string[];
  /** The option whose value is being typed, if the previous word was such an option. */
  pending?: Option;
  /** --socket/--url/--state-dir/--remote as typed, to reach the same daemon. */
  globals: GlobalOptions;
}

const GLOBAL_KEYS: Record<string, keyof GlobalOptions> = { '--socket': 'socket', '--url': 'url', '--state-dir': 'stateDir', '--remote': 'remote' };

function findOption(cmd: Command, flag: string): Option | undefined {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.options.find((x) => x.long === flag || x.short === flag);
    if (o) return o;
  }
  return undefined;
}

const takesValue = (o: Option): boolean => o.required || o.optional;

/** Walks the completed words (all but the last) down the command tree. Pure. */
export function parseWords(root: Command, words: string[]): ParsedWords {
  const out: ParsedWords = { cmd: root, path: [], args: [], globals: {} };
  let pending: Option | undefined;
  let positionalOnly = false;
  const setGlobal = (flag: string, value: string) => {
    const k = GLOBAL_KEYS[flag];
    if (k && k !== 'json') out.globals[k] = value;
  };
  for (const w of words.slice(0, -1)) {
    if (pending) {
      setGlobal(pending.long ?? '', w);
      pending = undefined;
    } else if (!positionalOnly && w === '--') {
      positionalOnly = true;
    } else if (!positionalOnly && w.startsWith('-') && w.length > 1) {
      const eq = w.indexOf('=');
      if (w.startsWith('--') && eq > 0) setGlobal(w.slice(0, eq), w.slice(eq + 1));
      else {
        const o = findOption(out.cmd, w);
        if (o && takesValue(o)) pending = o;
      }
    } else {
      const sub = out.args.length === 0 ? out.cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
      if (sub) {
        out.cmd = sub;
        out.path.push(sub.name());
      } else out.args.push(w);
    }
  }
  if (pending) out.pending = pending;
  return out;
}

type Source = 'vms' | 'snapshots' | 'pools' | 'remotes' | null;

/** Which names fit positional argument `argName` of the command at `path`. */
export function sourceForArgument(path: string[], argName: string): Source {
  const p = path.join(' ');
  if (argName === 'vm') return 'vms';
  if (p === 'console' && argName === 'name') return 'vms';
  if (path[0] === 'vm' && p !== 'vm create' && (argName === 'source' || (argName === 'name' && p !== 'vm clone'))) return 'vms';
  if ((p === 'snapshot revert' || p === 'snapshot rm') && argName === 'name') return 'snapshots';
  if (argName === 'pool' || (p === 'pool rm' && argName === 'name')) return 'pools';
  if ((p === 'remote remove' || p === 'remote default') && argName === 'name') return 'remotes';
  return null;
}

/** Which names fit the value of option `flag`. */
export function sourceForOption(flag: string): Source {
  if (flag === '--remote') return 'remotes';
  if (flag === '--vm') return 'vms';
  return null;
}

async function fromSource(s: Source, parsed: ParsedWords, src: CompletionSources): Promise<string[]> {
  switch (s) {
    case 'vms': return src.vms();
    case 'pools': return src.pools();
    case 'remotes': return src.remotes();
    case 'snapshots': return parsed.args[0] ? src.snapshots(parsed.args[0]) : [];
    default: return [];
  }
}

/** The candidates for the last word, filtered by what it starts with. */
export async function complete(root: Command, words: string[], sources: (globals: GlobalOptions) => CompletionSources): Promise<string[]> {
  const w = words.length ? words : [''];
  const cur = w[w.length - 1]!;
  const parsed = parseWords(root, w);
  const { cmd } = parsed;
  let all: string[];
  if (parsed.pending) {
    all = await fromSource(sourceForOption(parsed.pending.long ?? ''), parsed, sources(parsed.globals));
  } else if (cur.startsWith('-')) {
    const flags: string[] = [];
    for (let c: Command | null = cmd; c; c = c.parent) {
      for (const o of c.options) if (!o.hidden && o.long) flags.push(o.long);
    }
    all = [...flags, '--help'];
  } else if (cmd.commands.length > 0 && parsed.args.length === 0) {
    all = cmd.createHelp().visibleCommands(cmd).map((c) => c.name());
  } else {
    const defs = cmd.registeredArguments;
    const def = defs[parsed.args.length] ?? (defs[defs.length - 1]?.variadic ? defs[defs.length - 1] : undefined);
    all = def ? await fromSource(sourceForArgument(parsed.path, def.name()), parsed, sources(parsed.globals)) : [];
  }
  return [...new Set(all.filter((x) => x.startsWith(cur)))];
}
