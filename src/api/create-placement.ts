/**
 * `POST /v1/vms {spec, host: "auto" | NAME}` (`polyvisor vm create … --host`;
 * docs/scheduler.md "Placing a new VM"). The receiving member asks the
 * scheduler (HostsService.place: schedule explain's filters and weighers) for
 * the host; when that is another member the create is sent there by the
 * write-forwarding machinery (owner-forward.ts) with the chosen host named in
 * the body, and that host's answer comes back (`x-polyvisor-handled-by`). The
 * host a create is forwarded to checks again that it takes the VM (it may
 * have been cordoned or filled meanwhile). A new VM claims nothing until it
 * starts, as `host list` counts (docs/scheduler.md). A forwarded create names
 * this host or is refused (one hop).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HostsService } from '../cluster/index.js';
import type { VmService } from '../lifecycle/index.js';
import { fail } from '../shared/index.js';
import type { VmSpec } from '../spec/index.js';
import { FORWARDED_BY_HEADER, HANDLED_BY_HEADER, relayTo, type OwnerForwarder } from './owner-forward.js';
import { presentVm } from './present.js';

export interface CreatePlacer {
  hosts: HostsService;
  /** This host's name. */
  self: string;
  forwarder?: OwnerForwarder;
}

export class PlacedCreate {
  constructor(private readonly service: VmService, private readonly placer: CreatePlacer | undefined) {}

  /** Creates `spec` where `want` says (auto: the scheduler's choice), here or through the chosen host. */
  async create(req: FastifyRequest, reply: FastifyReply, o: { spec: VmSpec; rawSpec: unknown; want: string }): Promise<FastifyReply> {
    const self = this.placer?.self;
    const by = req.headers[FORWARDED_BY_HEADER];
    if (by !== undefined && o.want !== self) {
      fail('VM_ON_OTHER_HOST', `host ${String(by)} forwarded the create of VM ${o.spec.name} for host ${o.want}, but this is ${self ?? 'a single host'}: a second hop is refused`);
    }
    if (!this.placer) {
      if (o.want !== 'auto') fail('HOST_NOT_FOUND', `this daemon knows no hosts; there is no host ${o.want} to create VM ${o.spec.name} on (use --host auto, or leave --host out)`);
      return reply.status(201).send(presentVm(this.service, await this.service.create(o.spec)));
    }
    const p = this.placer;
    const choice = await p.hosts.place(o.spec, o.want);
    if (choice.host !== p.self) {
      if (!p.forwarder?.enabled) {
        fail('VM_ON_OTHER_HOST', `VM ${o.spec.name} goes to host ${choice.host}, but this host does not forward writes (forwardWrites: false)`, {
          hint: `send the create to ${choice.host} (its URL is in \`polyvisor host list\`) with --host ${choice.host}`,
        });
      }
      return relayTo(req, reply, { forwarder: p.forwarder, self: p.self, host: choice.host, what: `VM ${o.spec.name} was placed on host ${choice.host}`, body: { spec: o.rawSpec, host: choice.host } });
    }
    const rec = await this.service.create(o.spec);
    return reply.status(201).header(HANDLED_BY_HEADER, p.self).send(presentVm(this.service, rec));
  }
}
