/**
 * A form generated from the VM spec's JSON Schema (GET /v1/spec/schema), so
 * it has every field the daemon accepts and cannot drift from it. It does not
 * validate on its own: the API does, and its per-field messages are shown
 * under the fields they name (`errors`, keyed by the API's field path).
 */
import type { ReactNode } from 'react';

export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  default?: unknown;
  description?: string;
  required?: string[];
  minimum?: number;
  maximum?: number;
  maxItems?: number;
};
type Value = unknown;
type Path = Array<string | number>;

interface Props { schema: Schema; value: Record<string, Value>; onChange: (v: Record<string, Value>) => void; errors: ReadonlyMap<string, string> }

export function SchemaForm({ schema, value, onChange, errors }: Props) {
  return <>{Object.entries(schema.properties ?? {}).map(([k, s]) => (
    <Field key={k} name={k} schema={s} path={[k]} value={value[k]} required={schema.required?.includes(k) ?? false} errors={errors}
      onChange={(v) => onChange(setKey(value, k, v))} />
  ))}</>;
}

function setKey(obj: Record<string, Value>, k: string, v: Value): Record<string, Value> {
  const out = { ...obj };
  if (v === undefined) delete out[k];
  else out[k] = v;
  return out;
}

interface FieldProps { name: string; schema: Schema; path: Path; value: Value; required: boolean; errors: ReadonlyMap<string, string>; onChange: (v: Value) => void }

function Field(p: FieldProps): ReactNode {
  const { schema: s, path } = p;
  const id = `f-${path.join('.')}`;
  const err = p.errors.get(path.join('.'));
  const hint = [s.description, s.default !== undefined && s.default !== '' && typeof s.default !== 'object' ? `default ${String(s.default)}` : ''].filter(Boolean).join(' · ');
  const label = <label htmlFor={id}>{p.name}{p.required && <span aria-hidden="true"> *</span>}</label>;
  const foot = <>{hint && <small className="hint" id={`${id}-hint`}>{hint}</small>}{err && <small className="field-error" role="alert" data-field={path.join('.')}>{err}</small>}</>;
  const aria = { 'aria-invalid': err ? true : undefined, 'aria-describedby': hint ? `${id}-hint` : undefined };
  const type = Array.isArray(s.type) ? s.type[0] : s.type;

  if (s.const !== undefined) return null;
  if (type === 'object' && s.properties) {
    const obj = (p.value ?? {}) as Record<string, Value>;
    return (
      <fieldset className="group">
        <legend>{p.name}</legend>
        {Object.entries(s.properties).map(([k, sub]) => (
          <Field key={k} name={k} schema={sub} path={[...path, k]} value={obj[k]} required={s.required?.includes(k) ?? false} errors={p.errors}
            onChange={(v) => { const next = setKey(obj, k, v); p.onChange(Object.keys(next).length ? next : undefined); }} />
        ))}
        {err && <small className="field-error" role="alert">{err}</small>}
      </fieldset>
    );
  }
  if (type === 'object') {
    const text = Object.entries((p.value ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join('\n');
    return (
      <div className="field">{label}
        <textarea id={id} name={path.join('.')} rows={2} defaultValue={text} placeholder="key=value, one a line" {...aria}
          onChange={(e) => p.onChange(parsePairs(e.target.value))} />{foot}</div>
    );
  }
  if (type === 'array' && s.items?.type === 'object' && s.items.properties) {
    const items = (p.value ?? []) as Array<Record<string, Value>>;
    const item = s.items;
    return (
      <fieldset className="group">
        <legend>{p.name}</legend>
        {items.map((it, i) => (
          <fieldset key={i} className="group item">
            <legend>{p.name} {i + 1}</legend>
            {Object.entries(item.properties ?? {}).map(([k, sub]) => (
              <Field key={k} name={k} schema={sub} path={[...path, i, k]} value={it[k]} required={item.required?.includes(k) ?? false} errors={p.errors}
                onChange={(v) => p.onChange(items.map((x, j) => (j === i ? setKey(x, k, v) : x)))} />
            ))}
            <button type="button" className="small-btn" onClick={() => p.onChange(items.filter((_, j) => j !== i))}>Remove {p.name.replace(/s$/, '')} {i + 1}</button>
          </fieldset>
        ))}
        {(s.maxItems === undefined || items.length < s.maxItems) && <button type="button" className="small-btn" onClick={() => p.onChange([...items, {}])}>Add {p.name.replace(/s$/, '')}</button>}
        {err && <small className="field-error" role="alert">{err}</small>}
      </fieldset>
    );
  }
  if (type === 'array') {
    const text = Array.isArray(p.value) ? p.value.join(', ') : '';
    const opts = s.items?.enum ? ` (${s.items.enum.join(', ')})` : '';
    return (
      <div className="field">{label}
        <input id={id} name={path.join('.')} defaultValue={text} placeholder={`comma-separated${opts}`} {...aria}
          onChange={(e) => { const xs = e.target.value.split(',').map((x) => x.trim()).filter(Boolean); p.onChange(xs.length ? xs : undefined); }} />{foot}</div>
    );
  }
  if (s.enum) {
    return (
      <div className="field">{label}
        <select id={id} name={path.join('.')} value={p.value === undefined ? '' : String(p.value)} {...aria} onChange={(e) => p.onChange(e.target.value === '' ? undefined : e.target.value)}>
          <option value="">{s.default !== undefined ? `(default: ${String(s.default)})` : '(none)'}</option>
          {s.enum.map((x) => <option key={String(x)} value={String(x)}>{String(x)}</option>)}
        </select>{foot}</div>
    );
  }
  if (type === 'boolean') {
    return (
      <div className="field check">
        <input id={id} name={path.join('.')} type="checkbox" checked={p.value === undefined ? Boolean(s.default) : Boolean(p.value)} {...aria} onChange={(e) => p.onChange(e.target.checked)} />
        {label}{foot}</div>
    );
  }
  const numeric = type === 'integer' || type === 'number';
  const sizeLike = Boolean(s.anyOf?.some((a) => a.type === 'string') && s.anyOf?.some((a) => a.type === 'integer'));
  return (
    <div className="field">{label}
      <input id={id} name={path.join('.')} value={p.value === undefined ? '' : String(p.value)} inputMode={numeric ? 'numeric' : undefined}
        placeholder={sizeLike ? 'e.g. 512Mi, 2Gi' : undefined} {...aria}
        onChange={(e) => {
          const t = e.target.value;
          if (t === '') return p.onChange(undefined);
          if (numeric) return p.onChange(/^-?\d+(\.\d+)?$/.test(t) ? Number(t) : t);
          if (sizeLike && /^\d+$/.test(t)) return p.onChange(Number(t));
          return p.onChange(t);
        }} />{foot}</div>
  );
}

function parsePairs(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const line of text.split(/[\n,]/)) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf('=');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}
