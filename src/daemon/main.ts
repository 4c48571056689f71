/** polyvisord: the daemon's command line. */
import { parseArgs } from 'node:util';
import { isPolyvisorError, VERSION } from '../shared/index.js';
import { loadConfig } from './config.js';
import { startDaemon } from './daemon.js';
import { createLogger, resolveLogFormat } from './logger.js';

const HELP = `polyvisord ${VERSION}: the Polyvisor daemon

Options (each also settable in the config file or environment, see docs/config.md):
  --config FILE        YAML/JSON config file            (POLYVISOR_CONFIG)
  --state-dir DIR      state directory                  (POLYVISOR_STATE_DIR)
  --socket PATH        unix socket of the API           (POLYVISOR_SOCKET)
  --socket-group GROUP members may use the socket (0660) (POLYVISOR_SOCKET_GROUP)
  --listen HOST:PORT   TCP listener, or "off"           (POLYVISOR_LISTEN)
  --host-name NAME     this host's name                 (POLYVISOR_HOST_NAME)
  --qemu PATH          qemu-system-x86_64 binary        (POLYVISOR_QEMU)
  --accel auto|kvm|tcg accelerator override            (POLYVISOR_ACCEL)
  --log-level LEVEL    trace|debug|info|warn|error      (POLYVISOR_LOG_LEVEL)
  --log-format FORMAT  text|json|auto: auto is text on a terminal, JSON elsewhere (POLYVISOR_LOG_FORMAT)
  --tls                serve HTTPS on the TCP listener even on loopback (POLYVISOR_TLS=1);
                       beyond loopback it is HTTPS by default (a generated certificate)
  --insecure-http      serve plain HTTP beyond loopback (POLYVISOR_INSECURE_HTTP=1); doctor warns
`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' }, 'state-dir': { type: 'string' }, socket: { type: 'string' }, 'socket-group': { type: 'string' }, listen: { type: 'string' },
      'host-name': { type: 'string' }, qemu: { type: 'string' }, accel: { type: 'string' }, 'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      tls: { type: 'boolean' }, 'insecure-http': { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) return void process.stdout.write(HELP);
  if (values.version) return void process.stdout.write(`${VERSION}\n`);
  const config = loadConfig({
    ...(values.config ? { file: values.config } : {}),
    flags: {
      stateDir: values['state-dir'], socket: values.socket, socketGroup: values['socket-group'], listen: values.listen, hostName: values['host-name'],
      qemuBinary: values.qemu, accel: values.accel, logLevel: values['log-level'], logFormat: values['log-format'],
      tls: values.tls ? 'true' : undefined,
      insecureHttp: values['insecure-http'] ? 'true' : undefined,
    },
  });
  const tty = process.stdout.isTTY === true;
  const logger = createLogger(config.logLevel, undefined, {
    format: resolveLogFormat(config.logFormat, tty),
    color: tty && !process.env['NO_COLOR'],
  });
  const daemon = await startDaemon(config, logger);
  const stop = (sig: string) => {
    logger.info({ signal: sig }, 'shutting down; VMs keep running');
    void daemon.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (isPolyvisorError(err)) process.stderr.write(`polyvisord: ${err.message}\n  hint: ${err.hint}\n`);
  else process.stderr.write(`polyvisord: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
