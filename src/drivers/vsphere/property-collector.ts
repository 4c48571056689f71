/**
 * The PropertyCollector: many objects' properties in one round trip.
 * Container views (one per set of types, made once per session) let one
 * RetrievePropertiesEx read every VM (or host, datastore…) of the inventory;
 * ContinueRetrievePropertiesEx follows the pages vCenter cuts.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { SoapClient } from './soap-client.js';
import { asArray, ref, text, type MoRef, type Node, type SoapObject } from './soap-envelope.js';
import type { XmlReadOptions } from './xml-read.js';

export interface ObjectProps {
  obj: MoRef;
  props: Record<string, unknown>;
}

/** The objects of a container view (skip the view itself, follow its `view` property). */
export function viewObjectSet(view: MoRef): SoapObject {
  return {
    obj: view,
    skip: true,
    selectSet: { $type: 'TraversalSpec', name: 'view', type: 'ContainerView', path: 'view', skip: false },
  };
}

export function filterSpec(objectSet: SoapObject | SoapObject[], propSet: { type: string; paths: string[] }[]): SoapObject {
  return {
    propSet: propSet.map((p) => ({ type: p.type, all: false, pathSet: p.paths })),
    objectSet: objectSet as SoapObject[],
  };
}

export function readObjects(objects: unknown): ObjectProps[] {
  const out: ObjectProps[] = [];
  for (const o of asArray<Node>(objects)) {
    const obj = ref(o.obj);
    if (!obj) continue;
    const props: Record<string, unknown> = {};
    for (const p of asArray<Node>(o.propSet)) props[text(p.name) ?? ''] = p.val;
    out.push({ obj, props });
  }
  return out;
}

export class Properties {
  private readonly views = new Map<string, Promise<MoRef>>();
  private generation = 0;

  constructor(private readonly soap: SoapClient) {}

  /** A container view over the whole inventory for `types`, made once per (vSphere) session. */
  view(types: string[], signal: AbortSignal): Promise<MoRef> {
    if (this.generation !== this.soap.generation) {
      this.views.clear(); // a new login: the old session's views are gone
      this.generation = this.soap.generation;
    }
    const key = types.join(',');
    let v = this.views.get(key);
    if (!v) {
      const c = this.soap.content;
      v = this.soap
        .call('CreateContainerView', c.viewManager, { container: c.rootFolder, type: types, recursive: true }, signal)
        .then((b) => {
          const r = ref(b.returnval);
          if (!r) throw new PolyvisorError('ENDPOINT_PROTOCOL', 'CreateContainerView returned no view');
          return r;
        });
      v.catch(() => this.views.delete(key));
      this.views.set(key, v);
    }
    return v;
  }

  /** Runs `fn` with the view for `types`; once more with a new view when a re-login made the first one stale. */
  async withView<T>(types: string[], signal: AbortSignal, fn: (view: MoRef) => Promise<T>): Promise<T> {
    const gen = this.soap.generation;
    try {
      return await fn(await this.view(types, signal));
    } catch (err) {
      if (gen === this.soap.generation) throw err;
      return fn(await this.view(types, signal));
    }
  }

  /** RetrievePropertiesEx, then ContinueRetrievePropertiesEx until the last page. */
  async retrieve(spec: SoapObject, signal: AbortSignal, vm?: string, read?: XmlReadOptions): Promise<ObjectProps[]> {
    const pc = this.soap.content.propertyCollector;
    let b = await this.soap.call('RetrievePropertiesEx', pc, { specSet: spec, options: {} }, signal, vm, read);
    let r = b.returnval as Node | undefined;
    const out = readObjects(r?.objects);
    let token = text(r?.token);
    while (token) {
      b = await this.soap.call('ContinueRetrievePropertiesEx', pc, { token }, signal, vm, read);
      r = b.returnval as Node | undefined;
      out.push(...readObjects(r?.objects));
      token = text(r?.token);
    }
    return out;
  }

  /** Properties of every object of `type` in the inventory. */
  async all(type: string, paths: string[], signal: AbortSignal): Promise<ObjectProps[]> {
    return this.withView([type], signal, (view) => this.retrieve(filterSpec(viewObjectSet(view), [{ type, paths }]), signal));
  }

  /** Properties of one object (FOREIGN_VM_NOT_FOUND when it is gone, naming `vm`). */
  async one(obj: MoRef, paths: string[], signal: AbortSignal, vm?: string, read?: XmlReadOptions): Promise<Record<string, unknown>> {
    const got = await this.retrieve(filterSpec({ obj, skip: false }, [{ type: obj.type, paths }]), signal, vm, read);
    const o = got[0];
    if (!o) throw new PolyvisorError('FOREIGN_VM_NOT_FOUND', `${vm ?? obj.value} no longer exists on the endpoint`);
    return o.props;
  }
}
