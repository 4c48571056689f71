/**
 * Ready hosts indexed by how much room they have left, so a placement looks
 * at a few hosts instead of all. Hosts of the same allocatable shape, pool
 * and priority form a class; inside a class a host's capacity score depends
 * only on its free share f (scores.ts), so each class keeps its hosts in
 * buckets by f. Pack scans a class's buckets from the fullest up, spread from
 * the emptiest down, and the first bucket with a host that passes the filters
 * holds the class's best host. Inside a bucket, hosts sit in sub-buckets by
 * headroom (the smallest free share of any resource, on a log scale), and each
 * sub-bucket keeps the most free CPU, memory and disk of its hosts, so hosts
 * too full for the VM are skipped unopened. Pure (in-memory).
 */
import type { LiveHost } from './live-host.js';
import type { TopologyRoom } from './live-topology.js';
import { allocatable, remainingShare } from './scores.js';
import type { Policy, Resources, TopologyRequest } from './types.js';

const BUCKETS = 256;
/** Headroom sub-buckets: [2^-1, 1], [2^-2, 2^-1), … [2^-11, 2^-10), and below. */
const SUBS = 12;
const NOTHING: Resources = { cpus: 0, memoryBytes: 0, diskBytes: 0 };

interface Bucket {
  readonly members: number[];
  maxCpus: number;
  maxMemory: number;
  maxDisk: number;
  /** Topology maxima (issue 22): the most CPUs and free memory of one node, and free hugepages, of any member. */
  maxNodeCpus: number;
  maxNodeFree: number;
  maxPages2M: number;
  maxPages1G: number;
  /** Free GPUs and free mdev instances (all types) of any member. */
  maxGpus: number;
  maxMdev: number;
  /** A host left since the maxima were computed: they may be too high (never too low). */
  dirty: boolean;
}

interface FreeBucket {
  /** Hosts in all sub-buckets. */
  count: number;
  readonly subs: readonly Bucket[];
}

export interface HostClass {
  readonly pool: string;
  readonly priority: number;
  readonly allocatable: Resources;
  readonly buckets: readonly FreeBucket[];
  /** Bit k set when bucket k has hosts: the scan jumps over empty buckets. */
  readonly nonEmpty: Uint32Array;
}

/** Without published topology a host has no room for any topology ask (the topology filters refuse it then). */
const NO_ROOM: TopologyRoom = { cpus: -Infinity, free: -Infinity, p2: -Infinity, p1: -Infinity, gpus: -Infinity, mdev: -Infinity };
const topologyRoom = (h: LiveHost): TopologyRoom => h.topology?.room ?? NO_ROOM;

const newBucket = (): Bucket => ({
  members: [], maxCpus: -Infinity, maxMemory: -Infinity, maxDisk: -Infinity,
  maxNodeCpus: -Infinity, maxNodeFree: -Infinity, maxPages2M: -Infinity, maxPages1G: -Infinity, maxGpus: -Infinity, maxMdev: -Infinity, dirty: false,
});

/** True when no member of a bucket with these maxima can meet the request's topology asks. */
function topologyShort(b: Bucket, need: Resources & { topology?: TopologyRequest }): boolean {
  const t = need.topology;
  if (!t) return false;
  if (t.singleNode && (b.maxNodeCpus < need.cpus || b.maxNodeFree < need.memoryBytes)) return true;
  if (t.gpus?.length && b.maxGpus < t.gpus.length) return true;
  if (t.mdevTypes?.length && b.maxMdev < t.mdevTypes.length) return true;
  const hp = t.hugepages;
  return hp !== undefined && (hp.size === '2M' ? b.maxPages2M : b.maxPages1G) < hp.pages;
}

/** Called for each host with room for the VM; true when it accepts the host (passes the remaining filters). */
export type Pick = (h: LiveHost, index: number) => boolean;

export class CapacityIndex {
  readonly classes: HostClass[] = [];
  private readonly classOf: Int32Array;
  private readonly bucketOf: Int32Array;
  private readonly subOf: Int32Array;
  private readonly posOf: Int32Array;

  constructor(private readonly hosts: readonly LiveHost[], private readonly policy: Policy) {
    this.classOf = new Int32Array(hosts.length).fill(-1);
    this.bucketOf = new Int32Array(hosts.length).fill(-1);
    this.subOf = new Int32Array(hosts.length).fill(-1);
    this.posOf = new Int32Array(hosts.length).fill(-1);
    const byKey = new Map<string, number>();
    hosts.forEach((h, i) => {
      if (h.state !== 'ready') return;
      const a = allocatable(h, policy);
      const key = `${h.pool}\0${h.priority}\0${a.cpus}\0${a.memoryBytes}\0${a.diskBytes}`;
      let k = byKey.get(key);
      if (k === undefined) {
        k = this.classes.length;
        byKey.set(key, k);
        const buckets = Array.from({ length: BUCKETS + 1 }, (): FreeBucket => ({ count: 0, subs: Array.from({ length: SUBS }, newBucket) }));
        this.classes.push({ pool: h.pool, priority: h.priority, allocatable: a, buckets, nonEmpty: new Uint32Array((BUCKETS >> 5) + 1) });
      }
      this.classOf[i] = k;
      this.insert(i);
    });
  }

  private bucketFor(h: LiveHost): number {
    if (h.empty) return BUCKETS;
    const f = remainingShare(h, NOTHING, this.policy);
    return Math.max(0, Math.min(BUCKETS - 1, Math.floor(f * BUCKETS)));
  }

  private subFor(h: LiveHost, a: Resources): number {
    let g = 1;
    if (a.cpus > 0) g = Math.min(g, (a.cpus - h.cpus) / a.cpus);
    if (a.memoryBytes > 0) g = Math.min(g, (a.memoryBytes - h.memoryBytes) / a.memoryBytes);
    if (a.diskBytes > 0) g = Math.min(g, (a.diskBytes - h.diskBytes) / a.diskBytes);
    return g <= 0 ? 0 : Math.max(0, Math.min(SUBS - 1, SUBS + Math.floor(Math.log2(g))));
  }

  private insert(i: number): void {
    const h = this.hosts[i]!;
    const cls = this.classes[this.classOf[i]!]!;
    const a = cls.allocatable;
    const k = this.bucketFor(h);
    const sub = this.subFor(h, a);
    const fb = cls.buckets[k]!;
    const b = fb.subs[sub]!;
    if (fb.count++ === 0) cls.nonEmpty[k >> 5]! |= 1 << (k & 31);
    this.bucketOf[i] = k;
    this.subOf[i] = sub;
    if (k === BUCKETS) {
      // Empty hosts of a class all score the same: kept in name order, the first that passes wins.
      const m = b.members;
      let lo = 0;
      let hi = m.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.hosts[m[mid]!]!.name < h.name) lo = mid + 1;
        else hi = mid;
      }
      m.splice(lo, 0, i);
    } else {
      this.posOf[i] = b.members.length;
      b.members.push(i);
    }
    b.maxCpus = Math.max(b.maxCpus, a.cpus - h.cpus);
    b.maxMemory = Math.max(b.maxMemory, a.memoryBytes - h.memoryBytes);
    b.maxDisk = Math.max(b.maxDisk, a.diskBytes - h.diskBytes);
    if (h.topology) {
      const r = topologyRoom(h);
      b.maxNodeCpus = Math.max(b.maxNodeCpus, r.cpus);
      b.maxNodeFree = Math.max(b.maxNodeFree, r.free);
      b.maxPages2M = Math.max(b.maxPages2M, r.p2);
      b.maxPages1G = Math.max(b.maxPages1G, r.p1);
      b.maxGpus = Math.max(b.maxGpus, r.gpus);
      b.maxMdev = Math.max(b.maxMdev, r.mdev);
    }
  }

  private remove(i: number): void {
    const k = this.bucketOf[i]!;
    const cls = this.classes[this.classOf[i]!]!;
    const fb = cls.buckets[k]!;
    const b = fb.subs[this.subOf[i]!]!;
    if (--fb.count === 0) cls.nonEmpty[k >> 5]! &= ~(1 << (k & 31));
    b.dirty = true;
    if (k === BUCKETS) {
      b.members.splice(b.members.indexOf(i), 1);
      return;
    }
    const pos = this.posOf[i]!;
    const last = b.members.pop()!;
    if (last !== i) {
      b.members[pos] = last;
      this.posOf[last] = pos;
    }
    b.dirty = true;
  }

  /** Call after host i's allocation changed. */
  update(i: number): void {
    if (this.classOf[i]! < 0) return;
    this.remove(i);
    this.insert(i);
  }

  /**
   * Scans class `k` for `need`: from the fullest bucket up (pack) or the
   * emptiest down (spread), calling `consider` for each host with room; stops
   * after the first bucket in which `consider` accepted a host.
   */
  scan(classIndex: number, need: Resources & { topology?: TopologyRequest }, fullestFirst: boolean, consider: Pick): void {
    const cls = this.classes[classIndex]!;
    const a = cls.allocatable;
    // Tolerance so rounding never skips a bucket whose host passes the filters' own test.
    const ec = a.cpus * 1e-9;
    const em = a.memoryBytes * 1e-9;
    const ed = a.diskBytes * 1e-9;
    const words = cls.nonEmpty;
    for (let w = fullestFirst ? 0 : words.length - 1; fullestFirst ? w < words.length : w >= 0; w += fullestFirst ? 1 : -1) {
      let bits = words[w]!;
      while (bits !== 0) {
        const bit = fullestFirst ? 31 - Math.clz32(bits & -bits) : 31 - Math.clz32(bits);
        bits &= ~(1 << bit);
        if (this.scanBucket(cls, (w << 5) + bit, need, ec, em, ed, consider)) return;
      }
    }
  }

  /** Opens one bucket; true when a host in it was accepted (the scan stops there). */
  private scanBucket(cls: HostClass, k: number, need: Resources & { topology?: TopologyRequest }, ec: number, em: number, ed: number, consider: Pick): boolean {
    const a = cls.allocatable;
    const fb = cls.buckets[k]!;
    let found = false;
    for (let q = 0; q < SUBS; q++) {
      const b = fb.subs[q]!;
      const m = b.members;
      if (m.length === 0) continue;
      // Topology maxima are never too low (a host that left only makes them too high), so they prune even when dirty.
      if (topologyShort(b, need)) continue;
      if (k === BUCKETS) b.dirty = false; // every empty host has the whole class's allocatable free
      if (!b.dirty && (b.maxCpus + ec < need.cpus || b.maxMemory + em < need.memoryBytes || b.maxDisk + ed < need.diskBytes)) continue;
      let mc = -Infinity;
      let mm = -Infinity;
      let md = -Infinity;
      let tc = -Infinity;
      let tf = -Infinity;
      let t2 = -Infinity;
      let t1 = -Infinity;
      let tg = -Infinity;
      let tm = -Infinity;
      for (let j = 0; j < m.length; j++) {
        const i = m[j]!;
        const h = this.hosts[i]!;
        const fc = a.cpus - h.cpus;
        const fm = a.memoryBytes - h.memoryBytes;
        const fd = a.diskBytes - h.diskBytes;
        if (fc > mc) mc = fc;
        if (fm > mm) mm = fm;
        if (fd > md) md = fd;
        if (h.topology) {
          const r = topologyRoom(h);
          if (r.cpus > tc) tc = r.cpus;
          if (r.free > tf) tf = r.free;
          if (r.p2 > t2) t2 = r.p2;
          if (r.p1 > t1) t1 = r.p1;
          if (r.gpus > tg) tg = r.gpus;
          if (r.mdev > tm) tm = r.mdev;
        }
        if (h.cpus + need.cpus <= a.cpus && h.memoryBytes + need.memoryBytes <= a.memoryBytes && h.diskBytes + need.diskBytes <= a.diskBytes) {
          if (consider(h, i)) {
            found = true;
            if (k === BUCKETS) return true; // the rest of the empty hosts score the same and sort after it
          }
        }
      }
      b.maxCpus = mc;
      b.maxMemory = mm;
      b.maxDisk = md;
      b.maxNodeCpus = tc;
      b.maxNodeFree = tf;
      b.maxPages2M = t2;
      b.maxPages1G = t1;
      b.maxGpus = tg;
      b.maxMdev = tm;
      b.dirty = false;
    }
    return found;
  }
}
