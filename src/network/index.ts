export type {
  DhcpReservation, FirewallRule, HostNetworks, Lease, NetPortForward, NetworkDef, NetworkMode, NicAttachment, NicFirewall,
} from './types.js';
export { parseIp, formatIp, parseCidr, formatCidr, cidrContains, cidrsOverlap, isHostAddress, MAC_PATTERN, type Cidr } from './ipv4.js';
export { parseHostRoutes, type HostRoute } from './host-routes.js';
export {
  IFNAMSIZ_MAX, NETWORK_NAME_PATTERN, NETWORK_NAME_MAX, IFNAME_PATTERN, BRIDGE_PREFIX, TAP_PREFIX, bridgeNameFor, tapNameFor,
} from './names.js';
export {
  validateNetworkDef, validateNetworkName, validateNicAttachment, validatePort, validateVlan, subnetContains,
} from './validate.js';
export { chooseSubnet, addressPlan, defaultsFor, allocateAddress, type DefaultsContext } from './defaults.js';
export { nftRuleset, firewallRuleLine, NFT_INET_TABLE, NFT_BRIDGE_TABLE } from './nft-ruleset.js';
export { dnsmasqPaths, dnsmasqArgv, dnsmasqConfig, type DnsmasqPaths } from './dnsmasq-config.js';
export { parseLeases } from './leases.js';
export { hostCommandRunner, type CommandRunner, type HostRunnerOptions } from './runner.js';
export { parseLinks, netAlias, nicAlias, type LinkInfo } from './links.js';
export { LinuxHostNetworks, type LinuxHostNetworksOptions, type OverlayOptions } from './host-networks.js';
export { guestMtuFor, vxlanNameFor, floodChanges, parseFloodEntries, requireOverlayAddress, OVERLAY_MTU, VXLAN_PORT } from './vxlan.js';
export { probeVlanSupport, requireVlanSupport, vlanProbeCommands, PROBE_ALIAS, type VlanSupport } from './vlan-support.js';
