/** polyvisor: the command line. Exit codes: docs/cli.md. */
import { Command, CommanderError } from 'commander';
import { EXIT, VERSION, exitCodeFor, isPolyvisorError } from '../shared/index.js';
import { attachConsole } from './console.js';
import { clientFrom, type GlobalOptions } from './context.js';
import { readSpecDocument } from './spec-input.js';
import { registerVmCommands } from './vm-commands.js';
import { registerOperationCommands } from './operation-commands.js';
import { registerRemoteCommands } from './remote-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerSecretCommands } from './secret-commands.js';
import { registerMigrateCommands } from './migrate-commands.js';
import { registerStorageCommands } from './storage-commands.js';
import { registerSnapshotCommands } from './snapshot-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerDoctorCommands } from './doctor-commands.js';
import { registerTopCommand } from './top.js';

export function buildProgram(out: (s: string) => void = (s) => void process.stdout.write(s)): Command {
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

  registerVmCommands(program, out);
  registerOperationCommands(program, out);
  registerTokenCommands(program, out);
  registerSecretCommands(program, out);
  registerRemoteCommands(program, out);
  registerMigrateCommands(program, out);
  registerStorageCommands(program, out);
  registerSnapshotCommands(program, out);
  registerBackupCommands(program, out);
  registerDoctorCommands(program, out);
  registerTopCommand(program, out);

  program
    .command('console <name>')
    .description('attach to the serial console of a running VM (detach with Ctrl-])')
    .action(async (name: string) => attachConsole(clientFrom(program.opts<GlobalOptions>()), name));

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
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isPolyvisorError(err)) {
      if (program.opts<GlobalOptions>().json) process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
      else process.stderr.write(`error: ${err.message}\n  hint: ${err.hint}\n`);
      return exitCodeFor(err.code);
    }
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failure;
  }
}

if (process.argv[1] && /(polyvisor(\.js)?|cli\/main\.[jt]s)$/.test(process.argv[1])) {
  void run(process.argv.slice(2)).then((code) => process.exit(code));
}
