/**
 * The one error catalogue (DESIGN rule 2). Every user-reachable failure throws
 * a PolyvisorError with a stable code from here; bugs throw plain Error.
 * docs/errors.md is generated from this table and kept in step by a test.
 */
export interface CatalogueEntry {
  /** HTTP status the API maps this code to. */
  readonly status: number;
  /** CLI exit code (see docs/cli.md). */
  readonly exit: number;
  /** One line telling the user how to fix it. */
  readonly hint: string;
}

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  unavailable: 5,
  timeout: 6,
} as const;

const e = (status: number, exit: number, hint: string): CatalogueEntry => ({ status, exit, hint });

export const catalogue = {
  // input
  INVALID_NAME: e(400, EXIT.usage, 'Use 1-63 characters: letters, digits, "-", "_" and "."; start with a letter or digit.'),
  INVALID_PATH: e(400, EXIT.usage, 'Give an absolute path made of safe characters, without "..", inside the allowed directory.'),
  INVALID_ARGUMENT: e(400, EXIT.usage, 'Check the value named in the message against the command\'s help (`polyvisor vm create --help`, or any verb with --help).'),
  INVALID_BODY: e(400, EXIT.usage, 'Send a JSON body that matches the OpenAPI document of this route.'),
  SPEC_INVALID: e(400, EXIT.usage, 'Fix the listed fields; `polyvisor spec schema` prints every field and its rule.'),
  SPEC_PARSE_FAILED: e(400, EXIT.usage, 'Fix the syntax the message points at (the file must be YAML or JSON); `polyvisor spec validate FILE` checks a file without the daemon.'),
  SPEC_VERSION_UNSUPPORTED: e(400, EXIT.usage, 'Set `version: 2` (or 1 for a spec without topology and device fields), or upgrade Polyvisor to read newer specs.'),
  // resources
  VM_NOT_FOUND: e(404, EXIT.notFound, 'List VMs with `polyvisor vm list`.'),
  VM_EXISTS: e(409, EXIT.conflict, 'Pick another name, or remove the existing VM with `polyvisor vm rm NAME`.'),
  INVALID_TRANSITION: e(409, EXIT.conflict, 'Check the VM state with `polyvisor vm show NAME`; the message lists what is allowed from it.'),
  VM_BUSY: e(409, EXIT.conflict, 'Another operation on this VM is running: see it with `polyvisor operation list --vm NAME`, wait for it with `polyvisor operation wait ID`, then retry.'),
  ROUTE_NOT_FOUND: e(404, EXIT.notFound, 'See the API reference served at /v1/openapi.json.'),
  FILE_NOT_FOUND: e(404, EXIT.notFound, 'Check the path: the file must exist and be readable (by the daemon, for paths on the daemon host).'),
  // hypervisor
  QEMU_MISSING: e(503, EXIT.unavailable, 'Install QEMU: `apt-get install qemu-system-x86 qemu-utils`, or set qemuBinary in the config.'),
  QEMU_START_FAILED: e(500, EXIT.failure, 'The message ends with what QEMU said; `polyvisor vm show NAME` has the serial log path, and `polyvisor doctor` checks QEMU and the accelerator.'),
  VM_FILE_UNREACHABLE: e(409, EXIT.conflict, 'The VM\'s QEMU runs as its own unprivileged user (qemuUser: per-vm) and must pass through every folder above its files: make the named folder searchable (`chmod o+x FOLDER`, or give it the QEMU user range\'s shared group with g+x), move the file into a pool or the image library, or set qemuUser: root in the daemon config.'),
  APPARMOR_FAILED: e(500, EXIT.failure, '`apparmor_parser` refused or could not load the VM\'s AppArmor profile; the message ends with what it said. `polyvisor doctor` (check apparmor) says whether profiles can be loaded on this host.'),
  PORT_IN_USE: e(409, EXIT.conflict, 'Stop the VM the message names (`polyvisor vm stop NAME`) or the program holding the port (`ss -ltnup` lists them), or give this VM another hostPort in its portForwards.'),
  QEMU_GONE: e(409, EXIT.conflict, 'Start the VM again with `polyvisor vm start NAME`; its serial log (path in `polyvisor vm show NAME`) may say why QEMU ended.'),
  QMP_FAILED: e(500, EXIT.failure, 'QEMU refused the command; the message has its reason.'),
  QMP_DISCONNECTED: e(503, EXIT.unavailable, 'See whether the VM process still runs with `polyvisor vm show NAME`; if it ended, start it again with `polyvisor vm start NAME`.'),
  ACCEL_UNAVAILABLE: e(409, EXIT.conflict, 'Use `accel: auto` or `tcg`; `polyvisor doctor` says why KVM does not work here.'),
  HOST_TOPOLOGY_UNFIT: e(409, EXIT.conflict, 'Change the spec fields the message names to fit this host (its CPUs, NUMA nodes, free hugepages and PCI devices, as /sys shows them), or change the host: reserve hugepages (sysctl vm.nr_hugepages), bind the device and its IOMMU group to vfio-pci.'),
  OVMF_MISSING: e(503, EXIT.unavailable, 'Install UEFI firmware: `apt-get install ovmf`, or use `boot.firmware: bios`.'),
  AGENT_UNAVAILABLE: e(503, EXIT.unavailable, 'Enable `agent` in the VM spec and run qemu-guest-agent in the guest; it answers only once the guest has booted.'),
  VM_SAVE_FAILED: e(500, EXIT.failure, 'The VM was left running (or paused) as before; check free space in the state directory and retry.'),
  VM_RESTORE_FAILED: e(500, EXIT.failure, 'The save file was kept; it may be damaged, or the VM config (memory, devices) changed since it was saved: undo the change and retry.'),
  MIGRATION_FAILED: e(500, EXIT.failure, 'The VM keeps running where it was (unless the message says post-copy had switched over); the message names the failing side. Retry, or check the daemon log.'),
  MIGRATION_UNSAFE: e(409, EXIT.conflict, 'Give the VM a memory size that is not a multiple of 256 KiB (e.g. 262084Ki instead of 256Mi), run it under KVM, or use QEMU >= 9.0; `polyvisor vm migrate NAME --force-unsafe` moves it anyway.'),
  MIGRATION_NOT_RUNNING: e(409, EXIT.conflict, 'No migration of this VM is in progress; `polyvisor vm show NAME` shows its state.'),
  MIGRATION_INCOMPATIBLE: e(409, EXIT.conflict, 'The target host cannot run this VM as it is (details list each difference and its fix): same machine type, accelerator and CPU features, a QEMU at least as new, enough free memory; or move the VM offline.'),
  DISK_CREATE_FAILED: e(500, EXIT.failure, 'Check free space and permissions in the state directory.'),
  QEMU_IMG_MISSING: e(503, EXIT.unavailable, 'Install qemu-img: `apt-get install qemu-utils`.'),
  IMAGE_INVALID: e(400, EXIT.usage, 'The file is not a disk image QEMU can read, or it is damaged; inspect it with `qemu-img info` and `qemu-img check`.'),
  // storage (docs/storage.md)
  FORMAT_UNSUPPORTED: e(400, EXIT.usage, 'Use one of the formats qcow2, raw, vdi, vhdx, vmdk, vmdk-stream, vpc.'),
  POOL_NOT_FOUND: e(404, EXIT.notFound, 'List pools with `polyvisor pool list`.'),
  POOL_EXISTS: e(409, EXIT.conflict, 'Pick another pool name, or remove the existing pool with `polyvisor pool rm NAME`.'),
  POOL_IN_USE: e(409, EXIT.conflict, 'Delete its volumes first (`polyvisor volume list POOL`, then `polyvisor volume rm POOL NAME`); the default pool cannot be removed.'),
  VOLUME_NOT_FOUND: e(404, EXIT.notFound, 'List volumes with `polyvisor volume list POOL`.'),
  VOLUME_EXISTS: e(409, EXIT.conflict, 'Pick another volume name, or delete the existing volume with `polyvisor volume rm POOL NAME`.'),
  VOLUME_IN_USE: e(409, EXIT.conflict, 'Detach it first from the VMs the message names (`polyvisor disk detach VM DISK`), or delete its linked clones.'),
  INSUFFICIENT_SPACE: e(507, EXIT.conflict, 'Free space in the pool, pick a smaller size, or use another pool.'),
  IMAGE_NOT_FOUND: e(404, EXIT.notFound, 'List the image library with `polyvisor image list`.'),
  IMAGE_EXISTS: e(409, EXIT.conflict, 'Pick another image name, or remove the existing image with `polyvisor image rm NAME`.'),
  CHECKSUM_REQUIRED: e(400, EXIT.usage, 'Give --sha256 (or --sha512, or --checksum-url to a SHA256SUMS file); --insecure-no-checksum skips it, and is logged.'),
  CHECKSUM_MISMATCH: e(422, EXIT.failure, 'The file is not the one the checksum describes (corrupt or tampered); nothing was kept. Check the checksum and the source.'),
  DOWNLOAD_FAILED: e(502, EXIT.unavailable, 'Check the URL and that the server answers; run the same import again to resume an interrupted download.'),
  DISK_NOT_FOUND: e(404, EXIT.notFound, 'See the disks of the VM with `polyvisor vm show NAME`.'),
  DISK_EXISTS: e(409, EXIT.conflict, 'The VM already has a disk with this name or this image; pick another --name.'),
  HOTPLUG_UNSUPPORTED: e(409, EXIT.conflict, 'Stop the VM (`polyvisor vm stop NAME`) and retry: this disk cannot be plugged or unplugged while it runs.'),
  RESIZE_BEYOND_MAX: e(409, EXIT.conflict, 'Ask for at most the maximum the message names, or raise it: stop the VM (`polyvisor vm stop NAME`), edit `cpu.max` or `memory.max` in its spec (the web UI\'s edit form or PUT /v1/vms/NAME), then start it: QEMU fixes the ceiling at start.'),
  RESIZE_INVALID: e(400, EXIT.usage, 'Give at least one of --cpus N, --memory SIZE, --balloon SIZE; memory grows in whole 128 MiB blocks and shrinks only while the VM is stopped (lower what a running guest holds with --balloon).'),
  HOTPLUG_REFUSED: e(409, EXIT.conflict, 'The guest did not take or release the CPU or memory in time (no ACPI hot-plug support, or the memory is in use); the VM was left as it was. Retry, or stop the VM, resize it and start it again.'),
  ISO_TOOL_MISSING: e(503, EXIT.unavailable, 'Install xorriso (or genisoimage): `apt-get install xorriso`.'),
  EXPORT_VERIFY_FAILED: e(500, EXIT.failure, 'An exported file did not match its source; nothing was kept. Check free space and the qemu-img message.'),
  // virtual networks (docs/networks-objects.md)
  NETWORK_NOT_FOUND: e(404, EXIT.notFound, 'List networks with `polyvisor network list`; an admin creates one with `polyvisor network create NAME --mode MODE` (nat, isolated or bridge).'),
  NETWORK_EXISTS: e(409, EXIT.conflict, 'Pick another network name, or remove the existing network with `polyvisor network rm NAME`.'),
  NETWORK_IN_USE: e(409, EXIT.conflict, 'Remove the NICs on this network from the VMs the message names (edit their specs, or `polyvisor vm rm NAME`), then retry.'),
  NETWORK_UNAVAILABLE: e(503, EXIT.unavailable, 'This daemon cannot build virtual networks (it needs root and `ip`, `nft` and `dnsmasq`: `apt-get install iproute2 nftables dnsmasq-base`); use a user-mode NIC (`type: user`) instead.'),
  NIC_NOT_FOUND: e(404, EXIT.notFound, 'See the NICs of the VM with `polyvisor vm nic list VM` (or `polyvisor vm show VM`).'),
  NIC_EXISTS: e(409, EXIT.conflict, 'The VM already has a NIC with this name or MAC; pick another name (`--network NAME,name=net2`) or MAC, or remove it first with `polyvisor vm nic rm VM NIC`.'),
  // snapshots and backups (docs/snapshots-backups.md)
  SNAPSHOT_NOT_FOUND: e(404, EXIT.notFound, 'List the snapshots of the VM with `polyvisor snapshot list VM`.'),
  SNAPSHOT_EXISTS: e(409, EXIT.conflict, 'Pick another snapshot name, or delete the existing one with `polyvisor snapshot rm VM NAME`.'),
  SNAPSHOT_UNSUPPORTED: e(409, EXIT.conflict, 'Snapshots need qcow2 disks (convert raw disks to qcow2) and a VM that is running, paused or stopped.'),
  SNAPSHOT_DEPTH_EXCEEDED: e(409, EXIT.conflict, 'A snapshot chain is at most 32 deep: delete older snapshots of this branch first (`polyvisor snapshot rm VM NAME`).'),
  SNAPSHOT_FAILED: e(500, EXIT.failure, 'QEMU could not take, load or delete the snapshot; the VM was left as it was. The message has the reason.'),
  BACKUP_NOT_FOUND: e(404, EXIT.notFound, 'List the backups of the VM with `polyvisor backup list VM`.'),
  BACKUP_FAILED: e(500, EXIT.failure, 'Nothing was recorded and the VM kept running; check free space at the backup target and retry (the next run starts over).'),
  BACKUP_VERIFY_FAILED: e(422, EXIT.failure, 'A backup file no longer matches its checksum or fails qemu-img check; take a new full backup (`polyvisor backup create VM --full`).'),
  BACKUP_TARGET_FULL: e(507, EXIT.failure, 'The backup target ran out of space; nothing was recorded and the VM kept running. Free space there (`polyvisor backup prune VM …`) or point the daemon at a bigger target, then retry.'),
  BACKUP_TARGET_GONE: e(503, EXIT.unavailable, 'The backup target directory disappeared (removed or unmounted) during the backup; nothing was recorded. Mount or recreate it, then retry.'),
  SCHEDULE_NOT_FOUND: e(404, EXIT.notFound, 'List the backup schedules with `polyvisor backup schedule list`.'),
  SCHEDULE_EXISTS: e(409, EXIT.conflict, 'Pick another schedule name, or change the existing one with `polyvisor backup schedule set NAME …`.'),
  CONFIRMATION_REQUIRED: e(409, EXIT.conflict, 'This replaces data; repeat the command with --yes (API: "confirm": true) if you mean it.'),
  // time and cancellation
  TIMEOUT: e(504, EXIT.timeout, 'Retry, or allow more time (the command\'s --timeout option, where it has one); a long operation may still finish: `polyvisor operation list` shows it.'),
  ABORTED: e(499, EXIT.failure, 'The operation was cancelled before it finished; nothing was changed.'),
  // API access (docs/api.md)
  UNAUTHENTICATED: e(401, EXIT.usage, 'Send `Authorization: Bearer TOKEN` (the CLI: `polyvisor remote add NAME URL --token-file FILE`); an admin creates tokens with `polyvisor token create`.'),
  FORBIDDEN: e(403, EXIT.usage, 'The token\'s role does not allow this; ask an admin for a token with a stronger role (docs/api.md lists what each role may do).'),
  TOKEN_EXPIRED: e(401, EXIT.usage, 'Ask an admin for a new token (`polyvisor token create NAME --role ROLE --expires 90d`) and store it with `polyvisor remote add NAME URL --token-file FILE`.'),
  MIGRATION_TARGET_NOT_ALLOWED: e(403, EXIT.usage, 'Move the VM to a peer an admin registered (`polyvisor peer list`; `polyvisor vm migrate NAME --to-peer PEER`); only admins may name a target URL themselves.'),
  PEER_NOT_FOUND: e(404, EXIT.notFound, 'List the registered peers with `polyvisor peer list`; an admin adds one with `polyvisor peer add NAME URL --token-file FILE`.'),
  HOST_MEMORY_LOW: e(409, EXIT.conflict, 'Stop another VM, give this one less memory (edit its spec while it is stopped), or lower the daemon\'s migrationMemoryReserveMiB; nothing was started.'),
  QUOTA_EXCEEDED: e(403, EXIT.usage, 'Remove or shrink a VM your role (or token) owns, ask for fewer vCPUs or less memory, or ask an admin to raise the limit the message names (quotas in the daemon config, docs/config.md).'),
  PORT_FORWARD_NOT_ALLOWED: e(403, EXIT.usage, 'Forward from a loopback address (hostAddress 127.0.0.1, the default) and a host port of 1024 or more; binding other addresses or privileged ports is for admins.'),
  PATH_NOT_ALLOWED: e(403, EXIT.usage, 'Take the disk from a pool (`polyvisor volume create`), the image library (`polyvisor image import`) or the VM\'s own directory (a disk with a size); an admin may name any host file, or add its folder to the daemon\'s pathRoots.'),
  BODY_TOO_LARGE: e(413, EXIT.usage, 'Request bodies are limited to 1 MiB; send less (disk images go through the image library, not the request body).'),
  RATE_LIMITED: e(429, EXIT.unavailable, 'Too many requests for this token; wait the seconds in the Retry-After header and retry.'),
  TOO_MANY_STREAMS: e(429, EXIT.unavailable, 'Close an event stream this token holds (another browser tab, a forgotten `polyvisor events`), or give the other client a token of its own.'),
  AUTH_RATE_LIMITED: e(429, EXIT.unavailable, 'Too many requests with a wrong token came from this address; wait the seconds in the Retry-After header, then retry with a valid token.'),
  TOKEN_NOT_FOUND: e(404, EXIT.notFound, 'List tokens with `polyvisor token list`.'),
  TOKEN_EXISTS: e(409, EXIT.conflict, 'Pick another token name, or revoke the existing token with `polyvisor token revoke NAME`.'),
  OPERATION_NOT_FOUND: e(404, EXIT.notFound, 'List operations with `polyvisor operation list`; finished operations are kept for a while, then forgotten.'),
  REMOTE_NOT_FOUND: e(404, EXIT.notFound, 'List remotes with `polyvisor remote list`, or add one with `polyvisor remote add NAME URL --token-file FILE`.'),
  CERTIFICATE_UNTRUSTED: e(495, EXIT.usage, 'The daemon\'s TLS certificate is not pinned: check its fingerprint (`polyvisord` logs it) and run `polyvisor remote add NAME URL --accept-certificate`.'),
  CERTIFICATE_MISMATCH: e(495, EXIT.failure, 'Nothing was sent. If the daemon\'s certificate was regenerated on purpose, pin the new one: `polyvisor remote remove NAME`, then `polyvisor remote add NAME URL --fingerprint SHA256`; otherwise someone may be in between.'),
  TLS_SETUP_FAILED: e(500, EXIT.failure, 'The daemon could not create or read its TLS certificate in the tls/ folder of its state directory; check that `openssl` is installed (`apt-get install openssl`) and the directory is writable.'),
  // endpoints and drivers (docs/drivers.md)
  ENDPOINT_NOT_FOUND: e(404, EXIT.notFound, 'List endpoints with `polyvisor endpoint list`; an admin adds one with `polyvisor endpoint add NAME --driver DRIVER --url URL` (drivers: `polyvisor driver list`).'),
  ENDPOINT_EXISTS: e(409, EXIT.conflict, 'Pick another endpoint name, or remove the existing one with `polyvisor endpoint rm NAME`.'),
  ENDPOINT_UNREACHABLE: e(502, EXIT.unavailable, 'Check the endpoint\'s URL and that the hypervisor is up and reachable from the daemon\'s host (`polyvisor endpoint test NAME`); nothing was changed.'),
  ENDPOINT_AUTH_FAILED: e(502, EXIT.usage, 'The hypervisor refused the credentials: store the right ones with `polyvisor endpoint add NAME ... --user U --password-file F` (or --token-file F) again.'),
  ENDPOINT_TLS_UNTRUSTED: e(502, EXIT.usage, 'The hypervisor\'s certificate is not trusted: give its CA with `--ca FILE` when adding the endpoint (or, for a lab only, `--insecure`).'),
  ENDPOINT_LOST: e(502, EXIT.unavailable, 'The hypervisor stopped answering during the operation; check it with `polyvisor endpoint test NAME`, then look at the VM (`polyvisor vm show ENDPOINT/NAME`) before retrying.'),
  ENDPOINT_PROTOCOL: e(502, EXIT.failure, 'The hypervisor answered in a way the driver does not understand; the message has what it said. Check the hypervisor\'s version against docs/drivers.md.'),
  ENDPOINT_TASK_FAILED: e(502, EXIT.failure, 'The hypervisor ran the task and reported the failure in the message; fix what it names (its own logs say more) and retry.'),
  DRIVER_NOT_FOUND: e(400, EXIT.usage, 'Pick a driver from `polyvisor driver list`.'),
  CAPABILITY_NOT_SUPPORTED: e(501, EXIT.usage, 'The VM\'s driver cannot do this; `polyvisor driver list` shows what each driver can do. Nothing was started.'),
  FOREIGN_VM_NOT_FOUND: e(404, EXIT.notFound, 'List the endpoint\'s VMs with `polyvisor vm list --endpoint ENDPOINT`; address them as ENDPOINT/NAME.'),
  FOREIGN_VM_RUNNING: e(409, EXIT.conflict, 'Shut the source VM down first, or add `--shutdown` to let Polyvisor shut it down before copying its disks.'),
  // secrets (docs/security.md)
  SECRET_NOT_FOUND: e(404, EXIT.notFound, 'List secret names with `polyvisor secret list`; set one with `polyvisor secret set NAME` (value on standard input).'),
  SECRETS_UNREADABLE: e(500, EXIT.failure, 'Restore secrets.key and secrets.json of the state directory together, from the same backup (docs/security.md): one of them is missing, damaged or from another installation.'),
  // encrypted disks (docs/security.md "Encrypted disks")
  DISK_NOT_ENCRYPTED: e(400, EXIT.usage, 'A disk given by path with encrypt: true must already be LUKS-encrypted qcow2 with its passphrase in the secret named in docs/security.md; or give size instead of path and Polyvisor creates the encrypted image and its passphrase.'),
  DISK_KEY_MISSING: e(409, EXIT.conflict, 'The passphrase of this encrypted disk is not in this host\'s secrets store (secrets.json and secrets.key, docs/security.md): restore both files from the same backup. Without it the disk cannot be read.'),
  ENCRYPTED_DISK_PLAINTEXT: e(409, EXIT.conflict, 'Exports write an encrypted disk in clear only when asked: add --decrypt to `polyvisor disk export` or `polyvisor export` (API: "decrypt": true), or leave the disk out of a disk export with --disk NAME (docs/security.md "Encrypted disks").'),
  ENCRYPTED_DISK_UNSUPPORTED: e(409, EXIT.conflict, 'This operation is not available yet for a VM with encrypted disks (docs/security.md "Encrypted disks" lists what is); nothing was changed.'),
  // networks (docs/networks.md)
  NETWORK_INVALID: e(400, EXIT.usage, 'Fix the field named in the message (details.field): names 1-12 lowercase characters, interface names at most 15, an IPv4 CIDR like 10.123.0.0/24, addresses inside the subnet, VLAN 1-4094, ports 1-65535.'),
  SUBNET_OVERLAP: e(409, EXIT.conflict, 'Pick another subnet: the message names the network or host route this one overlaps (`ip route` lists the host\'s routes).'),
  NO_FREE_SUBNET: e(409, EXIT.conflict, 'Every candidate private /24 collides with a network or host route; give the subnet explicitly.'),
  LINK_NOT_OURS: e(409, EXIT.conflict, 'A network interface with that name exists and was not made by Polyvisor; pick another network name or bridge, or remove that interface yourself (`ip link show NAME`).'),
  NETWORK_HOST_FAILED: e(500, EXIT.failure, 'The host refused a network change (the message ends with what ip, nft or dnsmasq said); `polyvisor doctor` checks the bridge and tun modules, nftables and IP forwarding.'),
  NETWORK_VLAN_UNSUPPORTED: e(409, EXIT.conflict, 'This host\'s kernel cannot put a bridge\'s ports in VLANs (built without CONFIG_BRIDGE_VLAN_FILTERING, and the message says whether 802.1Q, CONFIG_VLAN_8021Q, is missing too); create the network without --vlan, or run on a kernel with them (`modprobe 8021q`, a distribution kernel); `polyvisor doctor` shows what this host has.'),
  // cluster scheduler (docs/scheduler.md)
  NO_HOST_FITS: e(409, EXIT.conflict, 'No host passed every filter; the details list each host and the filter that rejected it (capacity, state, selector, storage, affinity): free capacity, uncordon a host, relax the host selector or the hard (anti-)affinity rules, or add a host.'),
  HOST_SELECTOR_INVALID: e(400, EXIT.usage, 'Write the host selector as comma-separated requirements like Kubernetes label selectors: `key=value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` or `!key`.'),
  // interchange: foreign VM formats (docs/interchange.md)
  INTERCHANGE_INVALID: e(400, EXIT.usage, 'The file is not a descriptor Polyvisor can read (or declares XML entities, which are never expanded): check it is the format its name says (an import with --dry-run shows what is read).'),
  INTERCHANGE_LOSSY: e(400, EXIT.usage, 'With --strict every mapping warning refuses the import: read the warnings it lists, then import without --strict to accept them, or fix the source.'),
  // daemon and client
  DAEMON_UNREACHABLE: e(503, EXIT.unavailable, 'Start the daemon (`polyvisord`, or `bash scripts/demo.sh` in a checkout), or point --socket, --url or --remote at a running one.'),
  CONFIG_INVALID: e(400, EXIT.usage, 'Fix the named config key in the file, environment variable or flag.'),
  STORE_FAILED: e(500, EXIT.failure, 'The state database could not be written; check disk space and run `polyvisor doctor`.'),
  STORE_UNAVAILABLE: e(503, EXIT.unavailable, 'The cluster store (etcd) did not answer in time: check that a majority of the etcd members run and reach each other (`etcdctl endpoint health --cluster`), then retry; a write that timed out may still have been applied, so read it back first.'),
  HOST_NOT_FOUND: e(404, EXIT.notFound, 'List the cluster\'s hosts with `polyvisor host list`.'),
  NOT_A_CLUSTER: e(409, EXIT.conflict, 'This daemon runs on one host (its store is SQLite): cordon and drain need a cluster; see docs/ha.md and docs/cluster-store.md.'),
  VM_ON_OTHER_HOST: e(409, EXIT.conflict, 'The VM runs on another cluster host: send the request to that host (add it once with `polyvisor remote add NAME URL --token-file FILE`, its URL is in `polyvisor host list`), or move the VM first.'),
  HOST_UNREACHABLE: e(503, EXIT.unavailable, 'The VM\'s host (named in the message, with its API URL) did not answer the forwarded request: check that its daemon runs and that this host reaches that URL (`polyvisor host list` shows its state and lease age); nothing was forwarded if it refused the connection, so retry once it is back, or let HA restart the VM elsewhere if the host is lost.'),
  CLUSTER_NOT_LEADER: e(409, EXIT.conflict, 'This host lost the cluster leadership (its lease expired or another host took over) before the decision was written; nothing was changed, and the current leader decides again: retry, or see who leads with `etcdctl get --prefix /polyvisor/v1/election/`.'),
  // cluster membership and drain (docs/cluster.md)
  CLUSTER_TOKEN_UNKNOWN: e(403, EXIT.usage, 'Ask an admin of a cluster member for a new join token (`polyvisor cluster token create` there) and pass it to `polyvisor cluster join ADDRESS --token TOKEN`.'),
  CLUSTER_TOKEN_EXPIRED: e(403, EXIT.usage, 'Join tokens expire (default after 1 h): create a new one on a member with `polyvisor cluster token create [--ttl 1h]`.'),
  CLUSTER_TOKEN_USED: e(403, EXIT.usage, 'A join token admits one host: create another on a member with `polyvisor cluster token create`.'),
  ETCD_UNREACHABLE: e(503, EXIT.unavailable, 'Check the etcd client URLs (http(s)://HOST:2379) and that a majority of the members run (`etcdctl endpoint health --cluster`), then retry.'),
  CLUSTER_EXISTS: e(409, EXIT.conflict, 'This host or that etcd prefix already belongs to a cluster: use `polyvisor cluster status`; to add a host, run `polyvisor cluster join ADDRESS --token TOKEN` on it instead.'),
  CLUSTER_HOST_BUSY: e(409, EXIT.conflict, 'Move or remove the VMs the message names first (`polyvisor host drain HOST`), or say --force where the command offers it.'),
  HOST_NAME_TAKEN: e(409, EXIT.conflict, 'A live member has this host name: start the joining daemon with another --host-name, or let the other host leave first.'),
  DRAIN_FAILED: e(409, EXIT.conflict, 'See each VM\'s reason in the drain\'s report (`polyvisor host drain HOST` prints it again); fix it (or stop the VM) and run `polyvisor host drain HOST` again.'),
  STORE_SCHEMA_TOO_NEW: e(500, EXIT.failure, 'The state database was written by a newer Polyvisor; upgrade Polyvisor, or restore the state directory from before the upgrade.'),
  // declarative stacks (docs/stacks.md)
  STACK_INVALID: e(400, EXIT.usage, 'Fix the field named in the message (details[].field is its path in the stack file); docs/stacks.md lists every field and its rule.'),
  STACK_CYCLE: e(400, EXIT.usage, 'Break the cycle the message names: remove one of its depends_on entries (`polyvisor stack graph FILE` draws the order).'),
  STACK_NOT_FOUND: e(404, EXIT.notFound, 'List stacks with `polyvisor stack list`; a stack exists once `polyvisor up FILE` applied it.'),
  STACK_BUSY: e(409, EXIT.conflict, 'Another apply, down or destroy of this stack is running, on this daemon or another one sharing its store (the message names the holder): wait for it to finish (`polyvisor operation list` on that daemon), then retry. A lock left by a daemon that died is taken over once it expires (60 s), at once from the same host.'),
  STACK_CONFLICT: e(409, EXIT.conflict, 'An object of that name exists and the stack does not own it: rename the member in the stack file, or remove or rename the other object; nothing was changed.'),
  STACK_APPLY_FAILED: e(500, EXIT.failure, 'Fix the member the message names (details lists every step and its outcome), then run `polyvisor up FILE` again: members already done are kept and the rest continues.'),
  STACK_NOT_READY: e(504, EXIT.timeout, 'The member started but its readiness condition never held in time: check the guest (`polyvisor console NAME`), or raise the condition\'s timeout in the stack file, then run `polyvisor up FILE` again.'),
  STACK_CONFIRM: e(400, EXIT.usage, 'Read the plan, then pass --yes to apply it without a prompt (needed when stdin is not a terminal).'),
  // the appliance image (docs/guest.md)
  APPLIANCE_BUILD_FAILED: e(500, EXIT.failure, 'The build script\'s messages above name the step that failed; a first build needs root (to install missing Debian packages) and the Debian mirror, later ones reuse ~/.cache/polyvisor/appliance: run `polyvisor appliance build --out DIR` again as root.'),
  APPLIANCE_SOURCES_MISSING: e(500, EXIT.failure, 'This installation has no guest/appliance/build.sh: run `polyvisor appliance build --out DIR` from a Polyvisor checkout or release tarball that includes the guest/ folder.'),
  // releases (docs/releasing.md)
  RELEASE_MANIFEST_INVALID: e(422, EXIT.failure, 'The directory must hold the SHA256SUMS that scripts/release.sh wrote ("SHA256  PATH" lines, paths inside the directory): run `polyvisor release verify DIR` on the release directory itself, downloaded whole.'),
  RELEASE_CHECKSUM_MISMATCH: e(422, EXIT.failure, 'Do not use these files: download the release again (the files the message names, or all of it) and run `polyvisor release verify DIR --key PUB.pem` again; a partial download passes with --ignore-missing.'),
  RELEASE_SIGNATURE_INVALID: e(422, EXIT.failure, 'SHA256SUMS is not signed by this key: check that --key is the release key docs/releasing.md names (compare the fingerprint printed) and that SHA256SUMS and SHA256SUMS.sig come from the same release; otherwise do not use the files.'),
  RELEASE_KEY_INVALID: e(400, EXIT.usage, 'Give --key an Ed25519 public key in PEM ("BEGIN PUBLIC KEY"); `openssl pkey -in release.key -pubout -out release.pub.pem` derives it from the private key.'),
  BULK_FAILED: e(500, EXIT.failure, 'The action failed for the VMs listed in the table (DETAIL column); fix those and retry them by name.'),
  DOCTOR_CRITICAL: e(500, EXIT.failure, 'Run the fix command printed under each CRIT finding of `polyvisor doctor`, then run it again.'),
  INTERNAL: e(500, EXIT.failure, 'This is a bug; the daemon log has the details.'),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof catalogue;

export interface ErrorOptions {
  cause?: unknown;
  /** Structured detail, e.g. the failing fields of a spec. */
  details?: unknown;
  /** Overrides the catalogue hint when the fix is more specific. */
  hint?: string;
}

export class PolyvisorError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly hint: string;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PolyvisorError';
    this.code = code;
    this.status = catalogue[code].status;
    this.hint = opts.hint ?? catalogue[code].hint;
    this.details = opts.details;
  }

  toJSON(): { code: ErrorCode; message: string; hint: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message, hint: this.hint }
      : { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function fail(code: ErrorCode, message: string, opts?: ErrorOptions): never {
  throw new PolyvisorError(code, message, opts);
}

export function isPolyvisorError(err: unknown, code?: ErrorCode): err is PolyvisorError {
  return err instanceof PolyvisorError && (code === undefined || err.code === code);
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(catalogue, code);
}

export function exitCodeFor(code: string): number {
  return isErrorCode(code) ? catalogue[code].exit : EXIT.failure;
}

/** Markdown table of the catalogue; docs/errors.md is this text. */
export function renderErrorDocs(): string {
  const rows = Object.entries(catalogue).map(
    ([code, c]) => `| \`${code}\` | ${c.status} | ${c.exit} | ${c.hint.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Error catalogue',
    '',
    'Generated from `src/shared/errors.ts` (a test keeps this file in step: run',
    '`npx tsx scripts/gen-error-docs.ts` after changing the catalogue).',
    'The API answers with `{ "code", "message", "hint" }` and the HTTP status below;',
    'the CLI prints the message and hint and exits with the exit code below.',
    '',
    '| code | HTTP | exit | hint |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
