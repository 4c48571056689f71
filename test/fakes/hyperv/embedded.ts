/**
 * Embedded instances: the string parameters Hyper-V's methods take
 * (ResourceSettings, SnapshotSettings, ExportSettingData, MigrationSettingData…)
 * are instances in DMTF CIM-XML (DSP0201): <INSTANCE CLASSNAME="…"> with
 * <PROPERTY NAME TYPE><VALUE>, arrays as <PROPERTY.ARRAY><VALUE.ARRAY>.
 */
import { childEl, childEls, localName, parseForeignXml } from '../../../src/interchange/safe-xml.js';

export interface Embedded {
  cls: string;
  props: Record<string, string | string[] | null>;
}

export function readEmbedded(text: string): Embedded {
  const root = parseForeignXml(text, 'an embedded instance');
  if (localName(root.name) !== 'INSTANCE') throw new Error(`an embedded instance must be an INSTANCE element, not ${root.name}`);
  const props: Embedded['props'] = {};
  for (const p of root.children) {
    const name = p.attrs['NAME'] ?? '';
    if (p.name === 'PROPERTY') props[name] = childEl(p, 'VALUE')?.text ?? null;
    else if (p.name === 'PROPERTY.ARRAY') {
      const arr = childEl(p, 'VALUE.ARRAY');
      props[name] = arr ? childEls(arr, 'VALUE').map((v) => v.text) : null;
    }
  }
  return { cls: root.attrs['CLASSNAME'] ?? '', props };
}
