/**
 * The command tree. Each top-level verb belongs to one group; `buildProgram(out, verb)` registers
 * only the group that owns `verb` (a CLI call builds a few commands, not all of them), and every
 * group when the verb is unknown or absent (help, `completion`, docs).
 */
import { Command } from 'commander';
import { VERSION } from '../shared/index.js';

// What main.ts needs to run a command, loaded with the tree in one dynamic import.
export { CommanderError } from 'commander';
export { EXIT, exitCodeFor, isPolyvisorError } from '../shared/index.js';
import { attachConsole } from './console.js';
import { clientFrom, type GlobalOptions } from './context.js';
import { readSpecDocument } from './spec-input.js';
import { registerVmCommands } from './vm-commands.js';
import { registerOperationCommands } from './operation-commands.js';
import { registerRemoteCommands } from './remote-commands.js';
import { registerPeerCommands } from './peer-commands.js';
import { registerNetworkCommands } from './network-commands.js';
import { registerHostCommands } from './host-commands.js';
import { registerClusterCommands } from './cluster-commands.js';
import { registerStackCommands } from './stack-commands.js';
import { registerEndpointCommands } from './endpoint-commands.js';
import { registerImportCommand } from './import-commands.js';
import { registerExportCommand } from './interchange-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerSecretCommands } from './secret-commands.js';
import { registerMigrateCommands } from './migrate-commands.js';
import { registerStorageCommands } from './storage-commands.js';
import { registerSnapshotCommands } from './snapshot-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerDoctorCommands } from './doctor-commands.js';
import { registerTopCommand } from './top.js';
import { registerCompletionCommands } from './completion-commands.js';
import { registerApplianceCommands } from './appliance-commands.js';
import { registerReleaseCommands } from './release-commands.js';
import { registerScheduleCommands } from './schedule-commands.js';

export type Out = (s: string) => void;
type Register = (program: Command, out: Out) => void;

function registerConsoleCommand(program: Command): void {
  program
    .command('console <name>')
    .description('attach to the serial console of a running VM (detach with Ctrl-])')
    .action(async (name: string) => attachConsole(clientFrom(program.opts<GlobalOptions>()), name));
}

function registerSpecCommands(program: Command, out: Out): void {
  const spec = program.command('spec').description('the VM spec format');
  spec.command('schema').description('print the JSON Schema of the VM spec').action(async () => {
    const { specJsonSchema } = await import('../spec/index.js'); // zod loads only when needed: CLI start-up stays fast
    out(JSON.stringify(specJsonSchema(), null, 2) + '\n');
  });
  spec
    .command('validate <file>')
    .description('validate a spec file locally and print it with every default applied')
    .option('--name <name>', 'name to use if the file has none')
    .action(async (file: string, o: { name?: string }) => {
      const { validateSpec } = await import('../spec/index.js');
      const doc = await readSpecDocument(file);
      if (doc['name'] === undefined && o.name !== undefined) doc['name'] = o.name;
      out(JSON.stringify(validateSpec(doc), null, 2) + '\n');
    });
}

/** Groups in help order: the top-level verbs each registers, and how. */
const GROUPS: Array<{ verbs: string[]; register: Register[] }> = [
  { verbs: ['vm'], register: [registerVmCommands, registerMigrateCommands] },
  { verbs: ['operation', 'op', 'events'], register: [registerOperationCommands] },
  { verbs: ['token', 'audit'], register: [registerTokenCommands] },
  { verbs: ['secret'], register: [registerSecretCommands] },
  { verbs: ['remote'], register: [registerRemoteCommands] },
  { verbs: ['peer'], register: [registerPeerCommands] },
  { verbs: ['endpoint', 'driver'], register: [registerEndpointCommands] },
  { verbs: ['import', 'export'], register: [registerImportCommand, registerExportCommand] },
  { verbs: ['pool', 'volume', 'image', 'disk'], register: [registerStorageCommands] },
  { verbs: ['network'], register: [registerNetworkCommands] },
  { verbs: ['host'], register: [registerHostCommands] },
  { verbs: ['cluster'], register: [registerClusterCommands] },
  { verbs: ['schedule'], register: [registerScheduleCommands] },
  { verbs: ['up', 'down', 'stack'], register: [registerStackCommands] },
  { verbs: ['snapshot'], register: [registerSnapshotCommands] },
  { verbs: ['backup'], register: [registerBackupCommands] },
  { verbs: ['doctor'], register: [registerDoctorCommands] },
  { verbs: ['top'], register: [registerTopCommand] },
  { verbs: ['console'], register: [registerConsoleCommand] },
  { verbs: ['spec'], register: [registerSpecCommands] },
  { verbs: ['appliance'], register: [registerApplianceCommands] },
  { verbs: ['release'], register: [registerReleaseCommands] },
  // Completion walks the whole tree, whatever verb it completes.
  { verbs: ['completion', '__complete'], register: [(p, out) => registerCompletionCommands(p, out, () => buildProgram(() => {}))] },
];

/** Global options that take a value (their value is not the verb). */
const VALUED_GLOBALS = new Set(['--socket', '--url', '--state-dir', '--remote']);

/**
 * Which groups a call needs: `undefined` = all of them. `--version` alone needs none; a known
 * verb needs its group; help, no verb or an unknown one needs all (for help and "did you mean").
 */
export function verbOf(argv: string[]): string | null | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1];
    if (a === '-h' || a === '--help') return undefined;
    if (a === '-V' || a === '--version') return null;
    if (VALUED_GLOBALS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return undefined;
}

export function buildProgram(out: Out = (s) => void process.stdout.write(s), argv?: string[]): Command {
  const program = new Command('polyvisor')
    .version(VERSION)
    .description('Polyvisor: run and move virtual machines')
    .option('--socket <path>', 'daemon unix socket (POLYVISOR_SOCKET)')
    .option('--url <url>', 'daemon URL, e.g. http://127.0.0.1:8006 (POLYVISOR_URL)')
    .option('--state-dir <dir>', 'find the daemon socket in this state directory (POLYVISOR_STATE_DIR)')
    .option('--remote <name>', 'talk to this remote (see `polyvisor remote list`; POLYVISOR_REMOTE)')
    .option('--json', 'print JSON')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: (s) => void process.stderr.write(s) });
  const verb = argv === undefined ? undefined : verbOf(argv);
  if (verb === null) return program;
  const only = verb === undefined ? undefined : GROUPS.find((g) => g.verbs.includes(verb));
  for (const g of only ? [only] : GROUPS) for (const r of g.register) r(program, out);
  return program;
}
