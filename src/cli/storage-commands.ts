/** polyvisor pool|volume|image|disk: storage pools, volumes, the image library, VM disks and exports. */
import type { Command } from 'commander';
import { StorageClient, type Progress } from '../client/index.js';
import { endpointFrom, tokenFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';
import { storageBar } from './storage-progress.js';

type Json = Record<string, unknown>;
const bytes = (v: unknown) => (typeof v === 'number' ? formatBytes(v) : '-');

export function registerStorageCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = () => {
    const token = tokenFrom(g()); // POLYVISOR_TOKEN, else the chosen remote's token
    return new StorageClient({ endpoint: endpointFrom(g()), ...(token ? { token } : {}) });
  };
  const print = (v: unknown, text: () => string) => out(g().json ? JSON.stringify(v, null, 2) + '\n' : text());
  const withBar = async <T>(label: string, fn: (p: (x: Progress) => void) => Promise<T>): Promise<T> => {
    const bar = storageBar(label);
    try {
      return await fn((p) => bar.update(p));
    } finally {
      bar.done();
    }
  };

  const pool = program.command('pool').description('storage pools (directories holding volumes)');
  pool.command('list').alias('ls').description('list pools with capacity and usage').action(async () => {
    const ps = await client().listPools();
    print(ps, () => table(['NAME', 'KIND', 'PATH', 'VOLUMES', 'ALLOCATED', 'FREE', 'CAPACITY'], ps.map((p) => [
      `${String(p['name'])}${p['default'] ? '*' : ''}`, String(p['kind']), String(p['path']), String(p['volumes']), bytes(p['allocatedBytes']), bytes(p['freeBytes']), bytes(p['capacityBytes']),
    ])));
  });
  pool.command('add <name> <path>').description('add a directory pool (created if missing)').action(async (name: string, path: string) => print(await client().addPool(name, path), () => `pool ${name}: added\n`));
  pool.command('rm <name>').description('forget an empty pool (its directory stays)').action(async (name: string) => {
    await client().removePool(name);
    out(`pool ${name}: removed\n`);
  });

  const vol = program.command('volume').description('volumes in a pool: create, resize, clone, import, delete');
  vol.command('list [pool]').alias('ls').description('list the volumes of a pool (default: default)').action(async (p = 'default') => {
    const vs = await client().listVolumes(p);
    print(vs, () => table(['NAME', 'FORMAT', 'SIZE', 'ALLOCATED', 'BACKING', 'PATH'], vs.map((v) => [
      String(v['name']), String(v['format']), bytes(v['virtualSize']), bytes(v['actualSize']), String(v['backingFile'] ?? '-'), String(v['path']),
    ])));
  });
  vol.command('show <pool> <name>').description('qemu-img info of a volume').action(async (p: string, n: string) => out(JSON.stringify(await client().getVolume(p, n), null, 2) + '\n'));
  vol.command('create <pool> <name>')
    .description('create an empty volume (--size), or clone, or import an image')
    .option('--size <size>', 'virtual size, e.g. 10Gi')
    .option('--format <format>', 'qcow2 (default) or raw')
    .option('--clone <volume>', 'copy this volume of the same pool')
    .option('--from-image <image>', 'copy (or with --linked, overlay) a library disk image')
    .option('--linked', 'a linked clone: a qcow2 overlay reading through to its base')
    .option('--import <file>', 'convert a vmdk/vdi/vhdx/vhd/qcow2/raw file on the daemon host')
    .action(async (p: string, name: string, o: { size?: string; format?: string; clone?: string; fromImage?: string; linked?: boolean; import?: string }) => {
      const body: Json = { name, ...(o.format ? { format: o.format } : {}), ...(o.linked ? { linked: true } : {}) };
      if (o.clone) body['cloneFrom'] = o.clone;
      else if (o.fromImage) body['fromImage'] = o.fromImage;
      else if (o.import) body['importPath'] = o.import;
      else body['size'] = o.size;
      const long = !!(o.clone || o.fromImage || o.import);
      const v = long ? await withBar(`volume ${name}`, (cb) => client().createVolume(p, body, cb)) : await client().createVolume(p, body);
      print(v, () => `volume ${p}/${name}: ${String(v['format'])}, ${bytes(v['virtualSize'])}\n`);
    });
  vol.command('resize <pool> <name> <size>').description('grow a volume').action(async (p: string, n: string, size: string) => {
    const v = await client().resizeVolume(p, n, size);
    print(v, () => `volume ${p}/${n}: ${bytes(v['virtualSize'])}\n`);
  });
  vol.command('rm <pool> <name>').description('delete a volume no VM uses').action(async (p: string, n: string) => {
    await client().deleteVolume(p, n);
    out(`volume ${p}/${n}: deleted\n`);
  });

  const image = program.command('image').description('the image library: ISOs and disk images, verified by checksum');
  image.command('list').alias('ls').description('list library images').action(async () => {
    const is = await client().listImages();
    print(is, () => table(['NAME', 'KIND', 'FORMAT', 'SIZE', 'VERIFIED', 'SOURCE'], is.map((i) => [
      String(i['name']), String(i['kind']), String(i['format']), bytes(i['sizeBytes']), i['verified'] ? 'yes' : 'NO', String(i['source']),
    ])));
  });
  image.command('import <name>')
    .description('import an ISO or disk image from a URL or a file, verified against its checksum')
    .option('--url <url>', 'http(s) URL (an interrupted download resumes on the next import)')
    .option('--file <path>', 'absolute path on the daemon host')
    .option('--sha256 <hex>', 'expected SHA-256')
    .option('--sha512 <hex>', 'expected SHA-512')
    .option('--checksum-url <url>', 'a SHA256SUMS / SHA512SUMS file listing the image')
    .option('--insecure-no-checksum', 'import without verification (logged as a warning)')
    .option('--iso', 'it is an ISO (default: detected)')
    .action(async (name: string, o: { url?: string; file?: string; sha256?: string; sha512?: string; checksumUrl?: string; insecureNoChecksum?: boolean; iso?: boolean }) => {
      const checksum = o.sha256 ? `sha256:${o.sha256}` : o.sha512 ? `sha512:${o.sha512}` : undefined;
      const body: Json = {
        name, ...(o.url ? { url: o.url } : {}), ...(o.file ? { path: o.file } : {}), ...(checksum ? { checksum } : {}),
        ...(o.checksumUrl ? { checksumUrl: o.checksumUrl } : {}), ...(o.insecureNoChecksum ? { insecureNoChecksum: true } : {}), ...(o.iso ? { kind: 'iso' } : {}),
      };
      if (o.insecureNoChecksum) process.stderr.write('warning: importing without checksum verification\n');
      const i = await withBar(`image ${name}`, (cb) => client().importImage(body, cb));
      print(i, () => `image ${name}: ${String(i['kind'])} ${String(i['format'])}, ${bytes(i['sizeBytes'])}, ${i['verified'] ? `verified ${(i['checksum'] as Json)['algorithm'] as string}` : 'NOT verified'}\n`);
    });
  image.command('rm <name>').description('remove an image no VM or volume uses').action(async (n: string) => {
    await client().removeImage(n);
    out(`image ${n}: removed\n`);
  });

  const disk = program.command('disk').description('disks of VMs: attach, detach (hot-plug when running), export');
  disk.command('attach <vm>')
    .description('attach a pool volume or a library image (ISOs become CD-ROMs)')
    .option('--volume <pool/name>', 'a pool volume')
    .option('--image <name>', 'a library image')
    .option('--name <disk>', 'disk name in the VM')
    .option('--bus <bus>', 'virtio (default for disks), scsi or sata')
    .action(async (vm: string, o: { volume?: string; image?: string; name?: string; bus?: string }) => {
      const [p, v] = o.volume?.includes('/') ? o.volume.split('/', 2) : ['default', o.volume];
      const body: Json = { ...(o.image ? { image: o.image } : { pool: p, volume: v }), ...(o.name ? { name: o.name } : {}), ...(o.bus ? { bus: o.bus } : {}) };
      const r = await client().attachDisk(vm, body);
      print(r, () => `${vm}: disk ${String((r['disk'] as Json)['name'])} attached${r['hotplugged'] ? ' (hot-plugged)' : ''}\n`);
    });
  disk.command('detach <vm> <disk>').description('detach a disk (hot-unplug when running)').action(async (vm: string, d: string) => {
    await client().detachDisk(vm, d);
    out(`${vm}: disk ${d} detached\n`);
  });
  disk.command('export <vm>')
    .description('export a stopped VM\'s disks, each checked and compared, with a SHA256SUMS')
    .requiredOption('--format <list>', 'comma list of qcow2, raw, vdi, vhdx, vmdk, vmdk-stream, vpc')
    .requiredOption('--out <dir>', 'absolute output directory on the daemon host')
    .option('--disk <name...>', 'only these disks')
    .option('--decrypt', 'write encrypted disks in clear (refused without it)')
    .action(async (vm: string, o: { format: string; out: string; disk?: string[]; decrypt?: boolean }) => {
      const r = await withBar(`export ${vm}`, (cb) => client().exportVm(vm, { formats: o.format, outDir: o.out, ...(o.disk ? { disks: o.disk } : {}), ...(o.decrypt ? { decrypt: true } : {}) }, cb));
      const files = r['files'] as Json[];
      print(r, () => table(['FILE', 'FORMAT', 'SIZE', 'CHECK', 'SECONDS'], files.map((f) => [
        String(f['file']), String(f['format']), bytes(f['bytes']), f['checked'] ? 'clean' : 'n/a', Number(f['seconds']).toFixed(2),
      ])) + `${String(r['sumsFile'])}\n`);
    });
}
