/** What a caller may ask of a live migration, and its validation (shared by the API and the service). */
import { fail } from '../shared/index.js';
import type { MigrationTargetRef } from './peer.js';

/**
 * When to switch to post-copy: never; on request (`vm migrate-postcopy`); as
 * soon as the first pass over RAM is done (like virsh --postcopy-after-precopy);
 * or automatically when pre-copy does not converge.
 */
export const POSTCOPY_MODES = ['off', 'manual', 'after-precopy', 'auto'] as const;
export type PostcopyMode = (typeof POSTCOPY_MODES)[number];

export interface MigrateOptions {
  /** Longest acceptable pause at switch-over, 1–10000 ms (policy default 50). */
  downtimeMs?: number;
  /** Stream bandwidth cap in MiB/s; 0 or absent = the policy's choice (unlimited on one host). */
  bandwidthMiBps?: number;
  autoConverge?: boolean;
  postcopy?: PostcopyMode;
  /** multifd channels (2–16); absent = one stream. */
  multifd?: number;
  xbzrle?: boolean;
  /** Migrate even where QEMU's known TCG dirty-bitmap bug may corrupt the guest. */
  forceUnsafe?: boolean;
  /** Give up (and roll back, if before switch-over) after this long; default 600. */
  timeoutSeconds?: number;
  /** Move to another Polyvisor daemon (host-to-host) instead of a new process on this host. Raw targets are admins' (audit defect 7). */
  target?: MigrationTargetRef;
  /** Move to a peer an admin registered on this daemon (`polyvisor peer add`); resolved to `target` by the API. */
  peer?: string;
  /** Move to this host of the cluster (`polyvisor host list`); resolved to `target` by the API with the cluster's peer credential. */
  host?: string;
  /**
   * Encrypt and authenticate the stream and the disk mirrors of a host-to-host live move: TLS with a
   * per-migration CA, both ends verified (audit defect 4). On by default; `false` only for a link the
   * operator trusts (it saves the encryption's CPU).
   */
  tls?: boolean;
  /** How non-shared disks are mirrored (host-to-host live moves); default auto. */
  diskMirror?: DiskMirrorChoice;
  /** auto: seconds a background mirror may gain nothing before it goes write-blocking (default 10). */
  mirrorStallSeconds?: number;
  /** Cap on each disk mirror's background copy in MiB/s (absent or 0: unlimited). */
  diskBandwidthMiBps?: number;
}

/** auto: background mirroring, switched to write-blocking (active) for a disk whose mirror stops gaining on the guest. */
export const DISK_MIRROR_MODES = ['auto', 'background', 'write-blocking'] as const;
export type DiskMirrorChoice = (typeof DISK_MIRROR_MODES)[number];

const FINGERPRINT = /^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f]{64}$/;

/** A target's URL, token and optional pinned fingerprint, as an API body or a peer registration gives them. */
export function isTarget(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const t = v as Record<string, unknown>;
  if (Object.keys(t).some((k) => !['url', 'token', 'tlsFingerprint'].includes(k))) return false;
  if (typeof t['url'] !== 'string' || !/^https?:\/\/[A-Za-z0-9.[\]:-]+(:\d{1,5})?\/?$/.test(t['url'])) return false;
  if (typeof t['token'] !== 'string' || t['token'].length < 8 || t['token'].length > 512 || /\s/.test(t['token'])) return false;
  return t['tlsFingerprint'] === undefined || (typeof t['tlsFingerprint'] === 'string' && FINGERPRINT.test(t['tlsFingerprint']));
}

type Check = (v: unknown) => boolean;
const int = (lo: number, hi: number): Check => (v) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const bool: Check = (v) => typeof v === 'boolean';

const FIELDS: Record<keyof MigrateOptions, [Check, string]> = {
  downtimeMs: [int(1, 10_000), 'a whole number of milliseconds from 1 to 10000'],
  bandwidthMiBps: [int(0, 1_000_000), 'a whole number of MiB/s from 0 (unlimited) to 1000000'],
  autoConverge: [bool, 'true or false'],
  postcopy: [(v) => (POSTCOPY_MODES as readonly unknown[]).includes(v), `one of ${POSTCOPY_MODES.join(', ')}`],
  multifd: [int(1, 16), 'a whole number of channels from 1 to 16'],
  xbzrle: [bool, 'true or false'],
  forceUnsafe: [bool, 'true or false'],
  timeoutSeconds: [int(1, 86_400), 'a whole number of seconds from 1 to 86400'],
  target: [isTarget, 'an object { url: "http(s)://HOST:PORT", token, tlsFingerprint? } naming the target daemon'],
  peer: [(v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(v), 'the name of a registered peer (polyvisor peer list)'],
  host: [(v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(v), 'the name of a cluster host (polyvisor host list)'],
  tls: [bool, 'true or false'],
  diskMirror: [(v) => (DISK_MIRROR_MODES as readonly unknown[]).includes(v), `one of ${DISK_MIRROR_MODES.join(', ')}`],
  mirrorStallSeconds: [int(1, 3_600), 'a whole number of seconds from 1 to 3600'],
  diskBandwidthMiBps: [int(0, 1_000_000), 'a whole number of MiB/s from 0 (unlimited) to 1000000'],
};

/** Checks an untrusted object (an API body) and returns typed options; unknown keys are refused. */
export function parseMigrateOptions(body: Record<string, unknown>): MigrateOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue;
    const f = Object.hasOwn(FIELDS, k) ? FIELDS[k as keyof MigrateOptions] as [Check, string] : undefined; // not "toString" from the prototype
    if (!f) fail('INVALID_BODY', `unknown migration option "${k}"; known: ${Object.keys(FIELDS).join(', ')}`);
    if (!f[0](v)) fail('INVALID_BODY', `migration option ${k} must be ${f[1]}`);
    out[k] = v;
  }
  return out as MigrateOptions;
}
