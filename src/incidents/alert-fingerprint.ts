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
const TWO_POW_32 = 0x1_0000_0000;
/** Cannot occur in UTF-8, so `a=b,c` and `a,b=c` never hash alike. */
const SEPARATOR_BYTE = 0xff;

const utf8 = new TextEncoder();

/** Running FNV-1a 64 state; mutated in place to avoid allocation per byte. */
interface Hash64 {
  hi: number;
  lo: number;
}

function addByte(h: Hash64, byte: number): void {
  const lo = (h.lo ^ byte) >>> 0;
  // lo * 0x1b3 < 2^41: exact in a double; its upper part carries into hi.
  const product = lo * PRIME_LOW_BITS;
  const carry = Math.floor(product / TWO_POW_32);
  h.hi = (Math.imul(h.hi, PRIME_LOW_BITS) + carry + (lo << 8)) >>> 0;
  h.lo = product >>> 0;
}

function addBytes(h: Hash64, bytes: Uint8Array): void {
  for (const byte of bytes) addByte(h, byte);
}

/** Go compares strings bytewise; UTF-8 byte order is code point order, not JS's UTF-16 order. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Fingerprint of a label set, as 16 lower-case hex digits (Alertmanager's `%016x`).
 * Independent of key order; the empty set gives the FNV offset basis `cbf29ce484222325`.
 * Strings are hashed as UTF-8 (lone surrogates become U+FFFD, as Go's JSON decoder does).
 */
export function fingerprintLabels(labels: Record<string, string>): string {
  const names = Object.keys(labels);
  for (const name of names) if (!isAscii(name) || !isAscii(labels[name]!)) return fingerprintUtf8(labels);
  // All ASCII (nearly every label set): chars are the UTF-8 bytes, and the default sort's
  // UTF-16 order is byte order. No encoding, and the state stays in locals (module-level
  // numbers above 2^30 are boxed on every store): this was ~20 % of intake's event loop.
  names.sort();
  let text = '';
  for (const name of names) text += `${name}\xff${labels[name]!}\xff`;
  let hi = OFFSET_HI;
  let lo = OFFSET_LO;
  for (let i = 0; i < text.length; i++) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0;
    // lo * 0x1b3 in 16-bit halves, so every step stays in integer arithmetic.
    const low = (lo & 0xffff) * PRIME_LOW_BITS;
    const high = (lo >>> 16) * PRIME_LOW_BITS + (low >>> 16);
    hi = (Math.imul(hi, PRIME_LOW_BITS) + (high >>> 16) + (lo << 8)) >>> 0;
    lo = ((high << 16) | (low & 0xffff)) >>> 0;
  }
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The general path: any Unicode, hashed and sorted as UTF-8 bytes. */
export function fingerprintUtf8(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([name, value]) => ({ name: utf8.encode(name), value: utf8.encode(value) }));
  pairs.sort((a, b) => compareBytes(a.name, b.name));
  const h: Hash64 = { hi: OFFSET_HI, lo: OFFSET_LO };
  for (const { name, value } of pairs) {
    addBytes(h, name);
    addByte(h, SEPARATOR_BYTE);
    addBytes(h, value);
    addByte(h, SEPARATOR_BYTE);
  }
  return h.hi.toString(16).padStart(8, '0') + h.lo.toString(16).padStart(8, '0');
}
