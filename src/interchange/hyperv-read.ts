/** A Hyper-V descriptor: the exported configuration XML, or a PowerShell script with New-VM. Pure. */
import { readHypervScript } from './hyperv-script-read.js';
import { readHypervXml } from './hyperv-xml-read.js';
import type { ImportPlan, ReadOptions } from './types.js';

export function readHyperv(text: string, o: ReadOptions): ImportPlan {
  return /^\uFEFF?\s*</.test(text) ? readHypervXml(text, o) : readHypervScript(text, o);
}
