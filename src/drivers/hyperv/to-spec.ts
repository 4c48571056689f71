/**
 * A Hyper-V VM → Polyvisor's VmSpec, and the list of what did not map. Pure.
 * Generation 1 (BIOS, IDE boot disk) keeps BIOS and IDE; Generation 2 (UEFI,
 * SCSI) becomes UEFI with SCSI disks. Disks become `size` entries (the import
 * replaces them by the copied files), in controller order; NICs become virtio
 * on user-mode networking, keeping their MACs.
 */
import { validateSpec, type VmSpec } from '../../spec/index.js';
import { num, str } from './cim.js';
import { disksOf, generationOf, nicsOf, type VmFacts } from './map.js';

const MiB = 1024 * 1024;

/** A Polyvisor name from a Hyper-V VM name (which allows spaces and more). */
export function specName(name: string): string {
  const s = name.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').replace(/\.\.+/g, '.').replace(/[-.]+$/, '').slice(0, 63);
  return s || 'hyperv-vm';
}

export function vmToSpec(f: VmFacts): { spec: VmSpec; lossy: string[] } {
  const lossy: string[] = [];
  const hvName = str(f.system, 'ElementName') ?? 'vm';
  const name = specName(hvName);
  if (name !== hvName) lossy.push(`name "${hvName}" became "${name}" (Polyvisor names are lowercase letters, digits, . _ -)`);
  const gen = generationOf(f.settings);
  const cpus = Math.min(256, Math.max(1, (f.processor && num(f.processor, 'VirtualQuantity')) || 1));
  const memoryMiB = Math.max(16, (f.memory && num(f.memory, 'VirtualQuantity')) || 512);
  if (f.memory && str(f.memory, 'DynamicMemoryEnabled') === 'true') lossy.push(`dynamic memory was on: the VM gets its startup memory, ${memoryMiB} MiB, fixed`);
  if (gen === 2 && f.settings && str(f.settings, 'SecureBootEnabled') === 'true') lossy.push('Secure Boot was on in Hyper-V: the VM boots UEFI without it (boot.secureBoot with machine q35 turns it on)');
  const disks = disksOf(f).map((d) => ({ name: d.name, size: MiB, bus: d.bus, format: 'qcow2' as const }));
  const networks = nicsOf(f).map((n, i) => {
    if (n.network) lossy.push(`NIC ${i} was on Hyper-V switch "${n.network}": it becomes user-mode networking`);
    return { name: `net${i}`, model: 'virtio' as const, ...(n.mac ? { mac: n.mac } : {}) };
  });
  if (networks.length) lossy.push('Hyper-V synthetic network adapters became virtio');
  lossy.push(`Hyper-V Generation ${gen} became ${gen === 2 ? 'UEFI firmware' : 'BIOS firmware'}; integration services, checkpoints and the VM's saved state are not carried over`);
  const notes = f.settings ? str(f.settings, 'Notes') : null;
  const spec = validateSpec({
    name,
    description: (notes ?? '').slice(0, 1024),
    labels: { 'hyperv-generation': String(gen) },
    cpu: { count: cpus },
    memory: memoryMiB,
    boot: { firmware: gen === 2 ? 'uefi' : 'bios' },
    disks,
    networks,
  });
  return { spec, lossy };
}
