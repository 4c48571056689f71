/**
 * Endpoints as records of the secrets store (`endpoint.NAME`, the whole record
 * encrypted at rest, as peers are): driver, URL, user, and the credentials
 * (password, token, CA). Lists and views never carry a password or token.
 */
import { fail, validateName } from '../shared/index.js';
import { LOCAL_ENDPOINT, type EndpointAddRequest, type EndpointView } from '../spec/index.js';
import type { EndpointConnection } from '../drivers/index.js';

/** The part of the secrets store endpoints use. */
export interface EndpointSecrets {
  list(): Promise<Array<{ name: string; createdAt: string; updatedAt: string }>>;
  set(name: string, value: string): Promise<unknown>;
  reveal(name: string): Promise<string>;
  remove(name: string): Promise<void>;
  has(name: string): boolean;
}

/** What an admin gives to add an endpoint. */
export type EndpointInput = EndpointAddRequest;

export interface EndpointRecord extends EndpointInput {
  createdAt: string;
  updatedAt: string;
}

const PREFIX = 'endpoint.';
const hasControlOrSpace = (t: string): boolean => [...t].some((ch) => ch.charCodeAt(0) <= 0x20);
const MAX_URL = 2048;
const MAX_CA = 64 * 1024;

/** Checks what an admin gave; INVALID_ARGUMENT names the field. */
export function checkEndpointInput(i: EndpointInput): void {
  validateName(i.name, 'endpoint name');
  if (i.name === LOCAL_ENDPOINT) fail('ENDPOINT_EXISTS', `"${LOCAL_ENDPOINT}" is this daemon's own QEMU engine; pick another name`);
  if (typeof i.url !== 'string' || i.url.length === 0 || i.url.length > MAX_URL) fail('INVALID_ARGUMENT', `url must be 1-${MAX_URL} characters`);
  let u: URL;
  try {
    u = new URL(i.url);
  } catch {
    fail('INVALID_ARGUMENT', `url ${JSON.stringify(i.url)} is not a URL`);
  }
  if (u.username || u.password) fail('INVALID_ARGUMENT', 'put the user in --user and the password in a file (--password-file), not in the URL');
  if (i.user !== undefined && (i.user.length === 0 || i.user.length > 256 || hasControlOrSpace(i.user))) fail('INVALID_ARGUMENT', 'user must be 1-256 characters without spaces');
  if (i.password !== undefined && (i.password.length === 0 || i.password.length > 1024)) fail('INVALID_ARGUMENT', 'password must be 1-1024 characters');
  if (i.token !== undefined && (i.token.length === 0 || i.token.length > 2048 || /[\s]/.test(i.token))) fail('INVALID_ARGUMENT', 'token must be 1-2048 characters without spaces');
  if (i.password !== undefined && i.token !== undefined) fail('INVALID_ARGUMENT', 'give a password or a token, not both');
  if (i.password !== undefined && i.user === undefined) fail('INVALID_ARGUMENT', 'a password needs a user (--user)');
  if (i.ca !== undefined && (i.ca.length > MAX_CA || !i.ca.includes('-----BEGIN CERTIFICATE-----'))) fail('INVALID_ARGUMENT', 'ca must be PEM text (-----BEGIN CERTIFICATE-----), at most 64 KiB');
  if (i.ca !== undefined && i.insecure) fail('INVALID_ARGUMENT', 'give --ca or --insecure, not both');
}

export function connectionOf(r: EndpointRecord): EndpointConnection {
  const { driver: _driver, createdAt: _c, updatedAt: _u, ...c } = r;
  return c;
}

/** The record without credentials. */
export function viewOf(r: EndpointRecord, status: EndpointView['status']): EndpointView {
  const https = r.url.startsWith('https:');
  return {
    name: r.name,
    driver: r.driver,
    url: r.url,
    user: r.user ?? null,
    auth: r.token !== undefined ? 'token' : r.password !== undefined ? 'password' : 'none',
    tls: !https ? 'none' : r.insecure ? 'insecure' : r.ca !== undefined ? 'ca' : 'system',
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    status,
  };
}

export class EndpointStore {
  constructor(private readonly secrets: EndpointSecrets) {}

  has(name: string): boolean {
    return this.secrets.has(PREFIX + name);
  }

  async save(i: EndpointInput, createdAt?: string): Promise<EndpointRecord> {
    const now = new Date().toISOString();
    const rec: EndpointRecord = { ...i, createdAt: createdAt ?? now, updatedAt: now };
    await this.secrets.set(PREFIX + i.name, JSON.stringify(rec));
    return rec;
  }

  async get(name: string): Promise<EndpointRecord> {
    validateName(name, 'endpoint name');
    if (!this.has(name)) fail('ENDPOINT_NOT_FOUND', `no endpoint named ${name}`);
    return JSON.parse(await this.secrets.reveal(PREFIX + name)) as EndpointRecord;
  }

  async list(): Promise<EndpointRecord[]> {
    const out: EndpointRecord[] = [];
    for (const s of await this.secrets.list()) {
      if (s.name.startsWith(PREFIX)) out.push(await this.get(s.name.slice(PREFIX.length)));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<void> {
    validateName(name, 'endpoint name');
    if (!this.has(name)) fail('ENDPOINT_NOT_FOUND', `no endpoint named ${name}`);
    await this.secrets.remove(PREFIX + name);
  }
}
