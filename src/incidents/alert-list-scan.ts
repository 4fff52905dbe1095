/**
 * Finds the parts of a Prometheus alert list (the body of POST /api/v2/alerts) in its bytes,
 * without building the JSON objects: where each alert's `labels` and `annotations` objects
 * are, and its `startsAt`, `endsAt` and `generatorURL` strings.
 *
 * Only the plain form Prometheus writes is read: label and annotation values that are
 * strings, keys of printable ASCII without escapes, and no fields beside those five, each at
 * most once. Values may hold escapes (Go's encoder writes `&` in every generatorURL as
 * `\u0026`) and UTF-8. Anything else (including anything that is not JSON) answers null, and
 * the caller reads the body the general way, which also words the error: whatever this scan
 * accepts, the general reading accepts with the same parts.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
/** Printable ASCII ends here; DEL and above (UTF-8) are not plain in keys. */
const LAST_PLAIN = 0x7e;
/** What may follow a backslash in a JSON string (`u` takes four hex digits). */
const ESCAPES = new Set([...'"\\/bfnrtu'].map((c) => c.charCodeAt(0)));
const HEX_DIGIT = /^[0-9a-fA-F]{4}$/;

/** One alert's parts: byte ranges of its maps (start at `{`, end after `}`), and its strings. */
export interface ScannedAlert {
  labelsStart: number;
  labelsEnd: number;
  /** -1 when the alert has no annotations field. */
  annotationsStart: number;
  annotationsEnd: number;
  startsAt: string | undefined;
  endsAt: string | undefined;
  generatorUrl: string | undefined;
}

const LABELS = 1;
const ANNOTATIONS = 2;
const STARTS_AT = 4;
const ENDS_AT = 8;
const GENERATOR_URL = 16;

/** Field names as bytes, and the bit each sets. */
const FIELDS: readonly (readonly [Buffer, number])[] = [
  [Buffer.from('labels'), LABELS],
  [Buffer.from('annotations'), ANNOTATIONS],
  [Buffer.from('startsAt'), STARTS_AT],
  [Buffer.from('endsAt'), ENDS_AT],
  [Buffer.from('generatorURL'), GENERATOR_URL],
];

/** `__proto__`: the general reading refuses it as a key; left to it, with its message. */
const PROTO_KEY = Buffer.from('__proto__');

/** Thrown inside the scan when the body leaves the plain form; scanAlertList catches it. */
const NOT_PLAIN = new Error('not in the plain form');

/** The alerts of a plain alert list, in order, or null: read the body the general way. */
export function scanAlertList(bytes: Buffer): ScannedAlert[] | null {
  try {
    return new Scanner(bytes).list();
  } catch {
    // NOT_PLAIN, or anything unforeseen: the general reading answers either way.
    return null;
  }
}

class Scanner {
  private at = 0;
  /** Whether the last value read held escapes or UTF-8 (JSON.parse must decode it). */
  private decoded = false;

  constructor(private readonly bytes: Buffer) {}

  list(): ScannedAlert[] {
    const alerts: ScannedAlert[] = [];
    this.skipSpace();
    this.expect(OPEN_BRACKET);
    this.skipSpace();
    if (this.peek() === CLOSE_BRACKET) {
      this.at++;
    } else {
      for (;;) {
        alerts.push(this.alert());
        this.skipSpace();
        const next = this.take();
        if (next === CLOSE_BRACKET) break;
        if (next !== COMMA) throw NOT_PLAIN;
        this.skipSpace();
      }
    }
    this.skipSpace();
    if (this.at !== this.bytes.length) throw NOT_PLAIN;
    return alerts;
  }

  private alert(): ScannedAlert {
    const alert: ScannedAlert = {
      labelsStart: -1,
      labelsEnd: -1,
      annotationsStart: -1,
      annotationsEnd: -1,
      startsAt: undefined,
      endsAt: undefined,
      generatorUrl: undefined,
    };
    let seen = 0;
    this.expect(OPEN_BRACE);
    this.skipSpace();
    if (this.peek() === CLOSE_BRACE) throw NOT_PLAIN; // no labels: the general reading says so
    for (;;) {
      const keyStart = this.at + 1;
      const keyEnd = this.stringEnd();
      const field = this.fieldOf(keyStart, keyEnd);
      if (field === 0 || (seen & field) !== 0) throw NOT_PLAIN;
      seen |= field;
      this.skipSpace();
      this.expect(COLON);
      this.skipSpace();
      if (field === LABELS || field === ANNOTATIONS) {
        const start = this.at;
        this.stringMap();
        if (field === LABELS) {
          alert.labelsStart = start;
          alert.labelsEnd = this.at;
        } else {
          alert.annotationsStart = start;
          alert.annotationsEnd = this.at;
        }
      } else {
        const start = this.at;
        const end = this.valueEnd();
        // Escapes and UTF-8 are decoded by JSON.parse, as the general reading decodes them.
        const text = this.decoded ? (JSON.parse(this.bytes.toString('utf8', start, end + 1)) as string) : this.bytes.toString('latin1', start + 1, end);
        if (field === STARTS_AT) alert.startsAt = text;
        else if (field === ENDS_AT) alert.endsAt = text;
        else alert.generatorUrl = text;
      }
      this.skipSpace();
      const next = this.take();
      if (next === CLOSE_BRACE) break;
      if (next !== COMMA) throw NOT_PLAIN;
      this.skipSpace();
    }
    if ((seen & LABELS) === 0) throw NOT_PLAIN;
    return alert;
  }

  /** `{ "name": "value", … }` with string values; ends after the `}`. */
  private stringMap(): void {
    this.expect(OPEN_BRACE);
    this.skipSpace();
    if (this.peek() === CLOSE_BRACE) {
      this.at++;
      return;
    }
    for (;;) {
      const keyStart = this.at + 1;
      const keyEnd = this.stringEnd();
      if (this.equals(keyStart, keyEnd, PROTO_KEY)) throw NOT_PLAIN;
      this.skipSpace();
      this.expect(COLON);
      this.skipSpace();
      this.valueEnd();
      this.skipSpace();
      const next = this.take();
      if (next === CLOSE_BRACE) return;
      if (next !== COMMA) throw NOT_PLAIN;
      this.skipSpace();
    }
  }

  /** Reads a key at the cursor (at its `"`): printable ASCII, no escapes; returns where its contents end. */
  private stringEnd(): number {
    const bytes = this.bytes;
    if (bytes[this.at] !== QUOTE) throw NOT_PLAIN;
    let i = this.at + 1;
    for (;;) {
      const byte = bytes[i];
      if (byte === QUOTE) break;
      // Past the end (undefined), a control character, an escape or non-ASCII: not plain.
      if (byte === undefined || byte < SPACE || byte > LAST_PLAIN || byte === BACKSLASH) throw NOT_PLAIN;
      i++;
    }
    this.at = i + 1;
    return i;
  }

  /**
   * Reads a string value at the cursor (at its `"`): printable ASCII, valid escapes, and
   * bytes of UTF-8 (decoded with the text, as the general reading decodes them); returns
   * where its contents end. Sets `decoded`.
   */
  private valueEnd(): number {
    const bytes = this.bytes;
    if (bytes[this.at] !== QUOTE) throw NOT_PLAIN;
    this.decoded = false;
    let i = this.at + 1;
    for (;;) {
      const byte = bytes[i];
      if (byte === QUOTE) break;
      if (byte === undefined || byte < SPACE) throw NOT_PLAIN;
      if (byte === BACKSLASH) {
        const escape = bytes[i + 1];
        if (escape === undefined || !ESCAPES.has(escape)) throw NOT_PLAIN;
        if (escape === 0x75 && !HEX_DIGIT.test(bytes.toString('latin1', i + 2, i + 6))) throw NOT_PLAIN;
        this.decoded = true;
        i += escape === 0x75 ? 6 : 2;
        continue;
      }
      if (byte > LAST_PLAIN) this.decoded = true;
      i++;
    }
    this.at = i + 1;
    return i;
  }

  private fieldOf(start: number, end: number): number {
    for (const [name, bit] of FIELDS) if (this.equals(start, end, name)) return bit;
    return 0;
  }

  private equals(start: number, end: number, name: Buffer): boolean {
    if (end - start !== name.length) return false;
    for (let i = 0; i < name.length; i++) if (this.bytes[start + i] !== name[i]) return false;
    return true;
  }

  private skipSpace(): void {
    const bytes = this.bytes;
    let byte = bytes[this.at];
    while (byte === SPACE || byte === NEWLINE || byte === RETURN || byte === TAB) byte = bytes[++this.at];
  }

  private peek(): number | undefined {
    return this.bytes[this.at];
  }

  private take(): number | undefined {
    return this.bytes[this.at++];
  }

  private expect(byte: number): void {
    if (this.bytes[this.at] !== byte) throw NOT_PLAIN;
    this.at++;
  }
}
