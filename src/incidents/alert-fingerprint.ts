/**
 * Alert identity as Prometheus and Alertmanager compute it (prometheus/common
 * `model/signature.go` `labelSetToFingerprint`, `model/fnv.go`): FNV-1a 64 over the label
 * names in byte order, each `name 0xFF value 0xFF`, printed `%016x`. Equal to the
 * `fingerprint` Alertmanager puts in its webhook, so one alert keeps one identity whichever
 * way it arrives.
 */

// FNV-1a 64 constants as two 32-bit halves: offset basis 0xcbf29ce484222325,
// prime 0x100000001b3 = 2^40 + 0x1b3 (so h * prime = h * 0x1b3 + (h << 40)).
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PRIME_LOW_BITS = 0x1b3;
/** 0xFF cannot occur in UTF-8, so `a=b,c` and `a,b=c` never hash alike. */
const SEPARATOR = '\xff';

/**
 * Fingerprint of a label set, as 16 lower-case hex digits (Alertmanager's `%016x`).
 * Independent of key order; the empty set gives the FNV offset basis `cbf29ce484222325`.
 * Strings are hashed as UTF-8 (lone surrogates become U+FFFD, as Go's JSON decoder does).
 */
export function fingerprintLabels(labels: Record<string, string>): string {
  // Every string as its UTF-8 bytes, one char per byte: then the default sort is Go's
  // bytewise order, and the hash reads char codes. ASCII (nearly every label set) is
  // already that, so it is not re-encoded: this was ~20 % of intake's event loop.
  const names = Object.keys(labels);
  hash[0] = OFFSET_HI;
  hash[1] = OFFSET_LO;
  // Each piece is hashed where it is: concatenating them first made a rope that the hash
  // loop then had to flatten (fingerprinting was 3 % of an alert storm's event loop).
  if (names.every(isAscii)) {
    // No pairs to build: ASCII names sort bytewise as they are. Senders mostly list them in
    // order already (Go writes map keys sorted): then there is nothing to sort.
    if (!isSorted(names)) names.sort();
    for (const name of names) {
      hashText(name);
      hashText(SEPARATOR);
      hashText(utf8Bytes(labels[name]!));
      hashText(SEPARATOR);
    }
  } else {
    const pairs = names.map((name): [string, string] => [utf8Bytes(name), utf8Bytes(labels[name]!)]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [name, value] of pairs) {
      hashText(name);
      hashText(SEPARATOR);
      hashText(value);
      hashText(SEPARATOR);
    }
  }
  // By table: toString(16) + padStart took half the time of the whole fingerprint.
  return hex32(hash[0]!) + hex32(hash[1]!);
}

/**
 * The running FNV-1a state, high and low halves, between pieces. A typed array holds them
 * unboxed: module-level numbers above 2^30 are boxed on every store.
 */
const hash = new Uint32Array(2);

/** Feeds the char codes of `text` (bytes: one char per byte) into `hash`. */
function hashText(text: string): void {
  let hi = hash[0]!;
  let lo = hash[1]!;
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0;
    // lo * 0x1b3 in 16-bit halves, so every step stays in integer arithmetic.
    const low = (lo & 0xffff) * PRIME_LOW_BITS;
    const high = (lo >>> 16) * PRIME_LOW_BITS + (low >>> 16);
    hi = (Math.imul(hi, PRIME_LOW_BITS) + (high >>> 16) + (lo << 8)) >>> 0;
    lo = ((high << 16) | (low & 0xffff)) >>> 0;
  }
  hash[0] = hi;
  hash[1] = lo;
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/** An unsigned 32-bit integer as 8 lower-case hex digits. */
function hex32(n: number): string {
  return HEX_BYTES[n >>> 24]! + HEX_BYTES[(n >>> 16) & 0xff]! + HEX_BYTES[(n >>> 8) & 0xff]! + HEX_BYTES[n & 0xff]!;
}

function isSorted(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) if (names[i - 1]! > names[i]!) return false;
  return true;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The UTF-8 bytes of `text` as a string of one char per byte (itself when ASCII). */
function utf8Bytes(text: string): string {
  return isAscii(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}
