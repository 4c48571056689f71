/**
 * A VM NIC's firewall, read and replaced in place (issue 18). Runs on the
 * VM's job queue (VmService.exclusive). On a running VM the new rules go into
 * Polyvisor's nftables tables first — one `nft -f` transaction, so the VM's
 * traffic sees either the old rules or the new ones, never none — and only
 * then is the spec saved; if saving fails the old rules are put back. A VM
 * that does not run gets the spec change alone (its rules are made at start).
 */
import { fail, type Logger } from '../shared/index.js';
import { nicFirewallSchema, problemsOf, type NicFirewallInput, type NicFirewallSpec, type NicFirewallView, type VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import type { NetworkService } from './network-service.js';
import { networkNics, type NetworkNic } from './nic-attachments.js';
import type { VmService } from './vm-service.js';

const LIVE = new Set(['running', 'paused']);

function networkNic(rec: Pick<VmRecord, 'name' | 'spec'>, nic: string): NetworkNic {
  const n = networkNics(rec.spec).find((x) => x.name === nic);
  if (n) return n;
  if (rec.spec.networks.some((x) => x.name === nic)) fail('NETWORK_INVALID', `NIC ${nic} of VM ${rec.name} is not on a virtual network (user-mode NICs have no per-NIC firewall)`, { details: { field: 'nic' } });
  return fail('NIC_NOT_FOUND', `VM ${rec.name} has no NIC named ${nic}`);
}

/** The rules get their defaults; a bad one fails as SPEC_INVALID naming its field (firewall.rules.N.port…). */
function parseFirewall(input: NicFirewallInput): NicFirewallSpec {
  const r = nicFirewallSchema.safeParse(input);
  if (r.success) return r.data;
  const problems = problemsOf(r.error).map((p) => ({ ...p, field: `firewall.${p.field}` }));
  return fail('SPEC_INVALID', `invalid firewall: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: problems });
}

const view = (rec: Pick<VmRecord, 'name' | 'spec'>, nic: string, live: boolean): NicFirewallView => {
  const n = networkNic(rec, nic);
  return { vm: rec.name, nic, network: n.network, firewall: n.firewall ?? null, live };
};

export class NicFirewallService {
  private readonly log: Logger;

  constructor(private readonly o: { vms: VmService; networks: NetworkService; logger: Logger }) {
    this.log = o.logger.child({ component: 'nic-firewall' });
  }

  async get(vm: string, nic: string): Promise<NicFirewallView> {
    const rec = await this.o.vms.get(vm);
    return view(rec, nic, LIVE.has(rec.state));
  }

  /** Replaces the NIC's firewall (null removes it); applied at once on a running VM. */
  set(vm: string, nic: string, firewall: NicFirewallInput | null): Promise<NicFirewallView> {
    return this.o.vms.exclusive(vm, async (rec, inst) => {
      networkNic(rec, nic);
      const fw = firewall === null ? null : parseFirewall(firewall);
      const spec: VmSpec = {
        ...rec.spec,
        networks: rec.spec.networks.map((n) => {
          if (n.name !== nic) return n;
          const { firewall: _old, ...rest } = n as NetworkNic;
          return fw === null ? rest : { ...rest, firewall: fw };
        }),
      };
      const live = inst !== undefined && LIVE.has(rec.state);
      if (!live) return view(await this.o.vms.saveSpec(rec, spec), nic, false);
      await this.o.networks.reapplyNic({ ...rec, spec }, nic);
      try {
        const out = await this.o.vms.saveSpec(rec, spec);
        this.log.info({ vm, nic, rules: fw?.rules.length ?? 0, defaultIn: fw?.defaultIn ?? null, defaultOut: fw?.defaultOut ?? null }, 'NIC firewall applied to the running VM');
        return view(out, nic, true);
      } catch (err) {
        await this.o.networks.reapplyNic(rec, nic).catch((e: unknown) => this.log.error({ err: e, vm, nic }, 'could not put the old firewall back'));
        throw err;
      }
    });
  }
}
