/**
 * A cluster host's drain runner (cluster/drain.ts): it carries out a drain of
 * this host by the daemon-to-daemon migration, to the API URL each member
 * publishes, with the cluster's peer credential from this host's secrets
 * store (made by `cluster init`, handed to each joiner) — no operator gives a
 * URL or a token. Stopped VMs on a shared vmsDir change owner instead.
 */
import { apiOf, DrainRunner, PEER_TOKEN_SECRET } from '../cluster/index.js';
import type { VmService } from '../lifecycle/index.js';
import type { MigrationService } from '../migration/index.js';
import type { SecretStore } from '../secrets/index.js';
import { fail, type Logger } from '../shared/index.js';
import type { ClusterHost } from './cluster-wiring.js';

export function wireDrain(o: { cluster: ClusterHost; service: VmService; migrations: MigrationService; secrets: SecretStore; host: string; logger: Logger }): { close(): Promise<void> } {
  const log = o.logger.child({ component: 'drain' });
  const runner = new DrainRunner({
    kv: o.cluster.directory.kv, host: o.host, prefix: o.cluster.directory.prefix, directory: o.cluster.directory, log,
    vms: () => o.service.list(),
    allVms: () => o.service.listAll(),
    move: async (vm, to) => {
      if (!o.secrets.has(PEER_TOKEN_SECRET)) fail('DRAIN_FAILED', `this host has no cluster peer credential (secret ${PEER_TOKEN_SECRET}); it is made by cluster init and handed over by cluster join`);
      await o.migrations.migrate(vm, { target: { ...apiOf(to), token: await o.secrets.reveal(PEER_TOKEN_SECRET) } });
    },
    rehome: (vm, to) => o.service.exclusive(vm, async (rec) => {
      if (rec.host !== o.host) fail('DRAIN_FAILED', `VM ${vm} belongs to ${rec.host} now`);
      await o.service.states.takeOver(rec, to, `re-homed to ${to} by the drain of ${o.host} (shared vmsDir)`, rec.generation);
    }),
  });
  const ctl = new AbortController();
  const done = runner.run(ctl.signal);
  return {
    close: async () => {
      ctl.abort();
      await done;
    },
  };
}
