import { createHash, randomBytes } from 'node:crypto';
import type { Label } from './decoded-series.js';

export const MS_PER_DAY = 86_400_000;

/** A series known to this process. The id is stored as two uint32 halves for fast RowBinary writes. */
export interface SeriesEntry {
  readonly idLow: number;
  readonly idHigh: number;
  readonly metricName: string;
  /** Sorted by name, `__name__` excluded. */
  readonly labels: readonly Label[];
  /** Last day (days since epoch) whose series row has been committed; -1 before the first. */
  committedDay: number;
}

const NAME_PREFIX = Buffer.from('__name__\xff', 'latin1');

/**
 * Series id = first 8 bytes (little-endian UInt64) of SHA-256 over the metric name and the
 * labels sorted by name, each as `name 0xFF value 0xFF`. 0xFF never occurs in UTF-8, so
 * the encoding is unambiguous. Stable across processes and versions: never change it.
 */
export function computeSeriesId(metricName: string, sortedLabels: readonly Label[]): { idLow: number; idHigh: number } {
  // The whole text in one buffer, hashed in one call: an update per part cost ~1 µs each
  // in crossings into C++, and a sender's first request brings thousands of new series.
  let length = NAME_PREFIX.length + Buffer.byteLength(metricName);
  for (const label of sortedLabels) length += 2 + Buffer.byteLength(label.name) + Buffer.byteLength(label.value);
  const text = Buffer.allocUnsafe(length);
  NAME_PREFIX.copy(text);
  let at = NAME_PREFIX.length + text.write(metricName, NAME_PREFIX.length, 'utf8');
  for (const label of sortedLabels) {
    text[at++] = 0xff;
    at += text.write(label.name, at, 'utf8');
    text[at++] = 0xff;
    at += text.write(label.value, at, 'utf8');
  }
  const digest = createHash('sha256').update(text).digest();
  return { idLow: digest.readUInt32LE(0), idHigh: digest.readUInt32LE(4) };
}

export function dayOfMs(timestampMs: number): number {
  return Math.floor(timestampMs / MS_PER_DAY);
}

/**
 * Recognises series by a protocol-specific key (raw label bytes for remote_write, a canonical
 * string otherwise) so a known series costs one Map lookup. Bounded: past `maxEntries`, or
 * past `maxKeyBytes` of remote-write label bytes (a sender with huge label sets), the
 * cache starts over (`maxKeyBytes` counts the raw keys only, not the decoded label strings
 * each series also holds, ~the same size again), which costs only re-hashing and a re-written (deduplicated) series row.
 */
export interface SeriesRegistry {
  get(key: string): SeriesEntry | undefined;
  /** Registers a series from validated labels (`__name__` included, any order). */
  add(key: string, labels: readonly Label[]): SeriesEntry;
  /** Looks a series up by the raw bytes `bytes[start, end)` that identify it (remote_write label fields). */
  getByBytes(bytes: Uint8Array, start: number, end: number): SeriesEntry | undefined;
  addByBytes(bytes: Uint8Array, start: number, end: number, labels: readonly Label[]): SeriesEntry;
  /** Drops the registry's reference to the last body looked up by bytes; call once a body is done. */
  releaseBytes(): void;
  readonly size: number;
}

/**
 * Hash of a byte range, read 4 bytes at a time (murmur-style mixing). Known series are
 * recognised by hashing and comparing ~100 bytes of label fields per sample: word reads
 * made this 3x cheaper than byte-wise FNV-1a (measured), which was itself 10 % cheaper than
 * a string key. Not collision-resistant, seed or not: some bit flips cancel whatever the
 * seed, so a sender can craft keys that share a bucket. Chains are capped (MAX_CHAIN).
 * Exported for tests.
 */
export function hashBytes(view: DataView, bytes: Uint8Array, start: number, end: number): number {
  let hash = HASH_SEED ^ (end - start);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    hash = Math.imul(hash ^ view.getInt32(i, true), 0x9e3779b1);
    hash = (hash << 15) | (hash >>> 17);
  }
  for (; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  return hash >>> 0;
}

/** Random per process: different buckets on each start for ordinary keys. */
const HASH_SEED = randomBytes(4).readInt32LE(0);

const NONE = -1;
/**
 * Longest hash-bucket chain. Keys crafted to collide would make each lookup walk every one
 * before them (quadratic: 8k colliding series in one body took 0.8 s against 0.04 s,
 * measured); past this many, a bucket's series are found by their bytes as text in a Map.
 */
const MAX_CHAIN = 8;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Series known by their raw label bytes. Keys live one after another in a single arena,
 * and the links between series in typed arrays, instead of a Buffer, a DataView and a node
 * object per series: a sender repeats its order, so the key compared next is usually the
 * one stored right after the last, and the lookup streams through memory instead of
 * chasing three pointers per sample (under load, with the engine's threads on the other
 * core, that pointer chase cost ~170 ns a sample, measured).
 */
export class ByteKeyedSeries {
  private arena = Buffer.allocUnsafeSlow(64 * 1024);
  private arenaView = viewOf(this.arena);
  private arenaUsed = 0;
  private keyStart = new Int32Array(1024);
  private keyLength = new Int32Array(1024);
  /** Next series in the same hash bucket. */
  private nextInBucket = new Int32Array(1024);
  /** The series looked up right after this one, last time: most likely the one after it again. */
  private following = new Int32Array(1024);
  private readonly entries: SeriesEntry[] = [];
  private readonly buckets = new Map<number, number>();
  /** Series of buckets already MAX_CHAIN long, by their key bytes as latin1 text. */
  private readonly overflow = new Map<string, number>();
  private overflowBytes = 0;
  /** Bucket entries compared on lookups that missed the guess (a test watches the cap with it). */
  chainSteps = 0;
  /** The series of the last lookup (index), or NONE. */
  private previous = NONE;
  // Lookups come in runs over one request body: its view is made once, not per sample.
  private viewedBytes: Uint8Array | null = null;
  private view: DataView | null = null;

  get size(): number {
    return this.entries.length;
  }

  /** Bytes of all keys held (the arena, and the text keys of overflowed buckets). */
  get keyBytes(): number {
    return this.arenaUsed + this.overflowBytes;
  }

  get(bytes: Uint8Array, start: number, end: number): SeriesEntry | undefined {
    const view = this.viewFor(bytes);
    const predicted = this.previous === NONE ? NONE : this.following[this.previous]!;
    let found = NONE;
    if (predicted !== NONE && this.sameBytes(predicted, view, bytes, start, end)) found = predicted;
    else {
      let steps = 0;
      for (let i = this.buckets.get(hashBytes(view, bytes, start, end)) ?? NONE; i !== NONE; i = this.nextInBucket[i]!) {
        steps++;
        if (this.sameBytes(i, view, bytes, start, end)) {
          found = i;
          break;
        }
      }
      this.chainSteps += steps;
      if (found === NONE && steps >= MAX_CHAIN) found = this.overflow.get(textKey(bytes, start, end)) ?? NONE;
    }
    if (found === NONE) return undefined;
    this.follow(found);
    return this.entries[found];
  }

  add(bytes: Uint8Array, start: number, end: number, entry: SeriesEntry): void {
    const index = this.entries.length;
    if (index === this.keyStart.length) this.growIndex();
    const length = end - start;
    if (this.arenaUsed + length > this.arena.length) this.growArena(length);
    // A copy: a view would keep the whole request body alive while the series is known.
    this.arena.set(bytes.subarray(start, end), this.arenaUsed);
    this.keyStart[index] = this.arenaUsed;
    this.keyLength[index] = length;
    this.arenaUsed += length;
    const hash = hashBytes(this.viewFor(bytes), bytes, start, end);
    const head = this.buckets.get(hash) ?? NONE;
    let chain = 0;
    for (let i = head; i !== NONE && chain < MAX_CHAIN; i = this.nextInBucket[i]!) chain++;
    if (chain < MAX_CHAIN) {
      this.nextInBucket[index] = head;
      this.buckets.set(hash, index);
    } else {
      this.nextInBucket[index] = NONE;
      this.overflow.set(textKey(bytes, start, end), index);
      this.overflowBytes += length;
    }
    this.following[index] = NONE;
    this.entries.push(entry);
    this.follow(index);
  }

  private follow(index: number): void {
    if (this.previous !== NONE) this.following[this.previous] = index;
    this.previous = index;
  }

  private sameBytes(index: number, view: DataView, bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (this.keyLength[index] !== length) return false;
    const at = this.keyStart[index]!;
    const arenaView = this.arenaView;
    let i = 0;
    for (; i + 4 <= length; i += 4) if (arenaView.getInt32(at + i, true) !== view.getInt32(start + i, true)) return false;
    const arena = this.arena;
    for (; i < length; i++) if (arena[at + i] !== bytes[start + i]) return false;
    return true;
  }

  /** Forgets the last body looked up, so that an idle registry holds no request body. */
  releaseBytes(): void {
    this.viewedBytes = null;
    this.view = null;
  }

  private viewFor(bytes: Uint8Array): DataView {
    if (bytes !== this.viewedBytes) {
      this.viewedBytes = bytes;
      this.view = viewOf(bytes);
    }
    return this.view!;
  }

  private growArena(atLeast: number): void {
    const larger = Buffer.allocUnsafeSlow(Math.max(this.arena.length * 2, this.arenaUsed + atLeast));
    this.arena.copy(larger, 0, 0, this.arenaUsed);
    this.arena = larger;
    this.arenaView = viewOf(larger);
  }

  private growIndex(): void {
    const grown = (old: Int32Array) => {
      const larger = new Int32Array(old.length * 2);
      larger.set(old);
      return larger;
    };
    this.keyStart = grown(this.keyStart);
    this.keyLength = grown(this.keyLength);
    this.nextInBucket = grown(this.nextInBucket);
    this.following = grown(this.following);
  }
}

function textKey(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

export function createSeriesRegistry(maxEntries = 2_000_000, maxKeyBytes = 256 * 1024 * 1024): SeriesRegistry {
  // Key offsets are Int32.
  if (maxKeyBytes >= 2 ** 31) throw new RangeError(`maxKeyBytes must be below 2 GiB, got ${maxKeyBytes}`);
  let entries = new Map<string, SeriesEntry>();
  let byBytes = new ByteKeyedSeries();
  const makeEntry = (labels: readonly Label[]): SeriesEntry => {
    let metricName = '';
    const rest: Label[] = [];
    for (const label of labels) {
      if (label.name === '__name__') metricName = label.value;
      else rest.push(label);
    }
    rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const { idLow, idHigh } = computeSeriesId(metricName, rest);
    // A plain literal, not a spread: a spread-built object read on every sample cost ~8x (measured).
    return { idLow, idHigh, metricName, labels: rest, committedDay: -1 };
  };
  return {
    get: (key) => entries.get(key),
    add(key, labels) {
      if (entries.size >= maxEntries) entries = new Map();
      const entry = makeEntry(labels);
      entries.set(key, entry);
      return entry;
    },
    getByBytes: (bytes, start, end) => byBytes.get(bytes, start, end),
    releaseBytes: () => byBytes.releaseBytes(),
    addByBytes(bytes, start, end, labels) {
      if (byBytes.size >= maxEntries || byBytes.keyBytes + (end - start) > maxKeyBytes) byBytes = new ByteKeyedSeries();
      const entry = makeEntry(labels);
      byBytes.add(bytes, start, end, entry);
      return entry;
    },
    get size() {
      return entries.size + byBytes.size;
    },
  };
}

/** Key for protocols without raw label bytes: the canonical label text. */
export function canonicalSeriesKey(labels: readonly Label[]): string {
  const sorted = [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // Length-prefixed: a separator character can occur in label text (U+00FF is valid
  // there), and two label sets would then share a key and be stored as one series.
  let key = '';
  for (const label of sorted) key += `${label.name.length}:${label.name}${label.value.length}:${label.value}`;
  return key;
}
