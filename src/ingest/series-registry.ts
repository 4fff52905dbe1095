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

/**
 * Series id = first 8 bytes (little-endian UInt64) of SHA-256 over the metric name and the
 * labels sorted by name, each as `name 0xFF value 0xFF`. 0xFF never occurs in UTF-8, so
 * the encoding is unambiguous. Stable across processes and versions: never change it.
 */
export function computeSeriesId(metricName: string, sortedLabels: readonly Label[]): { idLow: number; idHigh: number } {
  const hash = createHash('sha256');
  hash.update('__name__\xff', 'latin1');
  hash.update(metricName, 'utf8');
  for (const label of sortedLabels) {
    hash.update('\xff', 'latin1');
    hash.update(label.name, 'utf8');
    hash.update('\xff', 'latin1');
    hash.update(label.value, 'utf8');
  }
  const digest = hash.digest();
  return { idLow: digest.readUInt32LE(0), idHigh: digest.readUInt32LE(4) };
}

export function dayOfMs(timestampMs: number): number {
  return Math.floor(timestampMs / MS_PER_DAY);
}

/**
 * Recognises series by a protocol-specific key (raw label bytes for remote_write, a canonical
 * string otherwise) so a known series costs one Map lookup. Bounded: past `maxEntries` the
 * cache starts over, which costs only re-hashing and a re-written (deduplicated) series row.
 */
export interface SeriesRegistry {
  get(key: string): SeriesEntry | undefined;
  /** Registers a series from validated labels (`__name__` included, any order). */
  add(key: string, labels: readonly Label[]): SeriesEntry;
  /** Looks a series up by the raw bytes `bytes[start, end)` that identify it (remote_write label fields). */
  getByBytes(bytes: Uint8Array, start: number, end: number): SeriesEntry | undefined;
  addByBytes(bytes: Uint8Array, start: number, end: number, labels: readonly Label[]): SeriesEntry;
  readonly size: number;
}

interface ByteKeyed {
  key: Uint8Array;
  keyView: DataView;
  entry: SeriesEntry;
  /** Next in this hash bucket. */
  next: ByteKeyed | null;
  /** The series looked up right after this one, last time: most likely the one after it again. */
  following: ByteKeyed | null;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Hash of a byte range, read 4 bytes at a time (murmur-style mixing). Known series are
 * recognised by hashing and comparing ~100 bytes of label fields per sample: word reads
 * made this 3x cheaper than byte-wise FNV-1a (measured), which was itself 10 % cheaper than
 * a string key.
 */
function hashBytes(view: DataView, bytes: Uint8Array, start: number, end: number): number {
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

/** Random per process, so a sender cannot craft label sets that all land in one bucket chain. */
const HASH_SEED = randomBytes(4).readInt32LE(0);

function sameBytes(node: ByteKeyed, view: DataView, bytes: Uint8Array, start: number, end: number): boolean {
  const { key, keyView } = node;
  const length = end - start;
  if (key.length !== length) return false;
  let i = 0;
  for (; i + 4 <= length; i += 4) if (keyView.getInt32(i, true) !== view.getInt32(start + i, true)) return false;
  for (; i < length; i++) if (key[i] !== bytes[start + i]) return false;
  return true;
}

export function createSeriesRegistry(maxEntries = 2_000_000): SeriesRegistry {
  let entries = new Map<string, SeriesEntry>();
  let byBytes = new Map<number, ByteKeyed>();
  let byteEntries = 0;
  /**
   * The series of the last lookup. Senders repeat an order (Prometheus batches each scrape's
   * series as the target exposes them), so the series after it last time is compared first,
   * before hashing: a hit skips the hash and the bucket lookup. Reset with the table, so
   * nodes of a dropped table are never reached again.
   */
  let previous: ByteKeyed | null = null;
  // Lookups come in runs over one request body: its view is made once, not per sample.
  let viewedBytes: Uint8Array | null = null;
  let view: DataView | null = null;
  const viewFor = (bytes: Uint8Array): DataView => {
    if (bytes !== viewedBytes) {
      viewedBytes = bytes;
      view = viewOf(bytes);
    }
    return view!;
  };
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
    getByBytes(bytes, start, end) {
      const bodyView = viewFor(bytes);
      const predicted = previous?.following;
      let found: ByteKeyed | null = null;
      if (predicted && sameBytes(predicted, bodyView, bytes, start, end)) found = predicted;
      else {
        for (let node: ByteKeyed | null | undefined = byBytes.get(hashBytes(bodyView, bytes, start, end)); node; node = node.next) {
          if (sameBytes(node, bodyView, bytes, start, end)) {
            found = node;
            break;
          }
        }
      }
      if (!found) return undefined;
      if (previous) previous.following = found;
      previous = found;
      return found.entry;
    },
    addByBytes(bytes, start, end, labels) {
      if (byteEntries >= maxEntries) {
        byBytes = new Map();
        byteEntries = 0;
        previous = null;
      }
      const hash = hashBytes(viewFor(bytes), bytes, start, end);
      const entry = makeEntry(labels);
      // A copy (in Node's small-buffer pool): Buffer#slice would be a view that keeps the
      // whole request body alive for as long as the series is known.
      const key = Buffer.from(bytes.subarray(start, end));
      const node: ByteKeyed = { key, keyView: viewOf(key), entry, next: byBytes.get(hash) ?? null, following: null };
      byBytes.set(hash, node);
      byteEntries++;
      if (previous) previous.following = node;
      previous = node;
      return entry;
    },
    get size() {
      return entries.size + byteEntries;
    },
  };
}

/** Key for protocols without raw label bytes: the canonical label text. */
export function canonicalSeriesKey(labels: readonly Label[]): string {
  const sorted = [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let key = '';
  for (const label of sorted) key += `${label.name}\xff${label.value}\xff`;
  return key;
}
