/**
 * Clone of a stopped domain on a host of this machine: its disks copied in
 * full (qemu-img convert) into the clone's own folder, its XML defined under
 * the new name with a new UUID (libvirt makes one), new MAC addresses
 * (libvirt makes them), the serial socket and log in the clone's folder and a
 * fresh UEFI variable store. CD-ROMs and read-only disks are shared, not
 * copied. A failure halfway removes the copies and the definition.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignClone } from '../endpoint.js';
import { checkName, type LibvirtContext } from './context.js';
import { copyDisk, makeVmDir, serialLogIn, serialSocketIn, vmDir } from './files.js';

const attrValue = (s: string): string => s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');

/** The inactive XML rewritten for the clone: name, no uuid/MACs/nvram, disk sources and serial paths as given. */
export function cloneXml(xml: string, newName: string, disks: Map<string, string>, serial: { from: string | null; socket: string; log: string }): string {
  let out = xml.replace(/<name>[^<]*<\/name>/, `<name>${attrValue(newName)}</name>`);
  out = out.replace(/\s*<uuid>[^<]*<\/uuid>/, '');
  out = out.replace(/\s*<mac address='[^']*'\/>/g, '');
  out = out.replace(/\s*<nvram[^>]*>[^<]*<\/nvram>|\s*<nvram[^>]*\/>/g, '');
  out = out.replace(/<source file='([^']*)'/g, (all, p: string) => (disks.has(p) ? `<source file='${attrValue(disks.get(p)!)}'` : all));
  if (serial.from) out = out.split(`<source mode='bind' path='${attrValue(serial.from)}'`).join(`<source mode='bind' path='${attrValue(serial.socket)}'`);
  out = out.replace(/<log file='[^']*'/g, `<log file='${attrValue(serial.log)}'`);
  return out;
}

export function clonePart(ctx: LibvirtContext): ForeignClone {
  return {
    async clone(vm, newName, signal, onProgress) {
      const src = await ctx.describe(checkName('VM', vm), signal);
      if (src.vm.state !== 'stopped') throw new PolyvisorError('FOREIGN_VM_RUNNING', `${vm} is ${src.vm.state}: a clone copies the disks of a stopped VM`);
      if (!src.host.local) throw new PolyvisorError('ENDPOINT_TASK_FAILED', `${vm} is on ${src.host.name}, not on this machine: the driver copies disk files on its own host only`);
      const dir = vmDir(ctx.options.diskRoot, newName);
      const xml = await src.virsh.call(['dumpxml', '--inactive', '--domain', vm], signal);
      const undo = await makeVmDir(dir);
      let defined = false;
      try {
        const copies = new Map<string, string>();
        const disks = src.facts.disks.filter((d) => d.location?.startsWith('/'));
        for (const [i, d] of disks.entries()) {
          const dst = `${dir}/${d.name}.${d.format ?? 'raw'}`;
          onProgress?.(i / Math.max(1, disks.length), `copy ${d.name}`);
          await copyDisk(d.location!, dst, d.format ?? 'raw', signal);
          copies.set(d.location!, dst);
        }
        const out = cloneXml(xml, newName, copies, { from: src.facts.serial.kind === 'unix' ? src.facts.serial.path : null, socket: serialSocketIn(dir, src.host), log: serialLogIn(dir) });
        await src.virsh.withXml(out, (file) => ['define', '--file', file], signal);
        defined = true;
        onProgress?.(1);
        return (await ctx.describe(newName, signal, src)).vm;
      } catch (err) {
        if (defined) await src.virsh.call(['undefine', '--domain', newName, '--nvram'], AbortSignal.timeout(30_000)).catch(() => undefined);
        await undo();
        throw err;
      }
    },
  };
}
