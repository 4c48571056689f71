export type {
  DhcpReservation, FirewallRule, HostNetworks, Lease, NetPortForward, NetworkDef, NetworkMode, NicAttachment, NicFirewall,
} from './types.js';
