/** polyvisor: the command line. Exit codes: docs/cli.md. */
import type { GlobalOptions } from './context.js';

/**
 * Runs one command line. Start-up cost is what users feel (docs/benchmarks.md, "cli"): this module
 * imports nothing, `--version` alone loads only the version, and everything else (commander, the
 * client, the command tree) is loaded by dynamic import, the tree holding only the verb called.
 */
export async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    const { VERSION } = await import('../shared/version.js');
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // One dynamic import, with named imports behind it: the bundler keeps only what is used.
  const { CommanderError, EXIT, exitCodeFor, isPolyvisorError, buildProgram } = await import('./program.js');
  const program = buildProgram(undefined, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isPolyvisorError(err)) {
      if (program.opts<GlobalOptions>().json) process.stderr.write(JSON.stringify(err.toJSON()) + '\n');
      else process.stderr.write(`error[${err.code}]: ${err.message}\n  hint: ${err.hint}\n`);
      return exitCodeFor(err.code);
    }
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.failure;
  }
}

if (process.argv[1] && /(polyvisor(\.js)?|cli\/main\.[jt]s)$/.test(process.argv[1])) {
  void run(process.argv.slice(2)).then((code) => process.exit(code));
}
