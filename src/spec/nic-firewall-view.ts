/**
 * A VM NIC's firewall as the API shows and takes it (issue 18): the spec's
 * nicFirewallSchema (rules in order, then the default policy per direction).
 */
import type { z } from 'zod';
import type { nicFirewallSchema } from './nic-network.js';

/** A NIC's firewall after defaults: every field present. */
export type NicFirewallSpec = z.output<typeof nicFirewallSchema>;
/** What PUT /v1/vms/NAME/nics/NIC/firewall takes: defaults may be left out. */
export type NicFirewallInput = z.input<typeof nicFirewallSchema>;

export interface NicFirewallView {
  vm: string;
  nic: string;
  network: string;
  /** null: no per-NIC firewall (everything the network allows passes). */
  firewall: NicFirewallSpec | null;
  /** True when the VM runs and its nftables rules now hold this firewall (applied without a restart). */
  live: boolean;
}

/** One rule of a NIC's firewall, defaults applied. */
export type FirewallRuleSpec = NicFirewallSpec['rules'][number];
