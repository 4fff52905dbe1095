import { joinPath, OtlpPayloadError } from './otlp-model.js';

/**
 * A bounds-checked protobuf wire reader (protobuf.dev/programming-guides/encoding) for the few
 * OTLP messages Vigil reads. Hand-written rather than protobufjs so that every malformed byte
 * becomes an error naming the field path, and fixed64 timestamps stay exact as bigint.
 * Each reader covers one message's byte range; `message()` returns a reader for a sub-message.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
const WIRE_NAMES = ['varint', 'i64', 'length-delimited', 'start-group', 'end-group', 'i32'];

/** Protobuf caps varints at 10 bytes (64 bits); anything longer is corrupt. */
const MAX_VARINT_BYTES = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ProtoReader {
  private pos: number;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    start: number,
    private readonly end: number,
    /** Field path of this message, for error details. */
    readonly path: string,
  ) {
    this.pos = start;
  }

  static forBody(bytes: Uint8Array): ProtoReader {
    return new ProtoReader(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length, '');
  }

  hasMore(): boolean {
    return this.pos < this.end;
  }

  /** Reads the next tag; use `fieldOf(tag)` and pass the tag to a typed read or to `skip`. */
  tag(): number {
    const tag = this.varint();
    if (tag > 0xffffffff || tag >>> 3 === 0) this.fail(`invalid field tag ${tag}`);
    return tag;
  }

  string(tag: number, field: string): string {
    const bytes = this.lengthDelimited(tag, field);
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail('string is not valid UTF-8', field);
    }
  }

  bytesField(tag: number, field: string): Uint8Array {
    return this.lengthDelimited(tag, field).slice();
  }

  message(tag: number, field: string): ProtoReader {
    const start = this.lengthStart(tag, field);
    return new ProtoReader(this.bytes, this.view, start, this.pos, joinPath(this.path, field));
  }

  /** Skips a sub-message after checking that its length fits. */
  skipMessage(tag: number, field: string): void {
    this.lengthStart(tag, field);
  }

  fixed64(tag: number, field: string): bigint {
    this.expectWire(tag, WIRE_I64, field);
    return this.view.getBigUint64(this.advance(8, field), true);
  }

  sfixed64(tag: number, field: string): bigint {
    this.expectWire(tag, WIRE_I64, field);
    return this.view.getBigInt64(this.advance(8, field), true);
  }

  double(tag: number, field: string): number {
    this.expectWire(tag, WIRE_I64, field);
    return this.view.getFloat64(this.advance(8, field), true);
  }

  int64(tag: number, field: string): bigint {
    this.expectWire(tag, WIRE_VARINT, field);
    return BigInt.asIntN(64, this.varintBig(field));
  }

  uint32(tag: number, field: string): number {
    this.expectWire(tag, WIRE_VARINT, field);
    return Number(BigInt.asUintN(32, this.varintBig(field)));
  }

  /** Enum values are int32 on the wire; negative ones arrive as 10-byte varints. */
  enumValue(tag: number, field: string): number {
    this.expectWire(tag, WIRE_VARINT, field);
    return Number(BigInt.asIntN(32, this.varintBig(field)));
  }

  bool(tag: number, field: string): boolean {
    this.expectWire(tag, WIRE_VARINT, field);
    return this.varintBig(field) !== 0n;
  }

  /** Repeated fixed64: parsers must accept both packed (length-delimited) and one-per-tag encodings. */
  repeatedFixed64(tag: number, field: string, out: bigint[]): void {
    if ((tag & 7) !== WIRE_LEN) {
      out.push(this.fixed64(tag, field));
      return;
    }
    for (const offset of this.packedOffsets(tag, field)) out.push(this.view.getBigUint64(offset, true));
  }

  /** Repeated double, packed or not (see repeatedFixed64). */
  repeatedDouble(tag: number, field: string, out: number[]): void {
    if ((tag & 7) !== WIRE_LEN) {
      out.push(this.double(tag, field));
      return;
    }
    for (const offset of this.packedOffsets(tag, field)) out.push(this.view.getFloat64(offset, true));
  }

  /** Skips an unknown field; groups (wire types 3 and 4) are long deprecated and never used by OTLP. */
  skip(tag: number): void {
    const wireType = tag & 7;
    const field = `field ${tag >>> 3}`;
    if (wireType === WIRE_VARINT) this.varintBig(field);
    else if (wireType === WIRE_I64) this.advance(8, field);
    else if (wireType === WIRE_LEN) this.lengthStart(tag, field);
    else if (wireType === WIRE_I32) this.advance(4, field);
    else this.fail(`unsupported wire type ${wireType} (${WIRE_NAMES[wireType] ?? 'unknown'})`, field);
  }

  private packedOffsets(tag: number, field: string): number[] {
    const start = this.lengthStart(tag, field);
    const length = this.pos - start;
    if (length % 8 !== 0) this.fail(`packed length ${length} is not a multiple of 8`, field);
    const offsets: number[] = [];
    for (let offset = start; offset < this.pos; offset += 8) offsets.push(offset);
    return offsets;
  }

  private lengthDelimited(tag: number, field: string): Uint8Array {
    const start = this.lengthStart(tag, field);
    return this.bytes.subarray(start, this.pos);
  }

  /** Reads a length prefix, checks it fits, moves past the payload and returns where it starts. */
  private lengthStart(tag: number, field: string): number {
    this.expectWire(tag, WIRE_LEN, field);
    const length = this.varint(field);
    const left = this.end - this.pos;
    if (length > left) this.fail(`length ${length} runs past the end (${left} bytes left)`, field);
    const start = this.pos;
    this.pos += length;
    return start;
  }

  private advance(size: number, field: string): number {
    const left = this.end - this.pos;
    if (size > left) this.fail(`needs ${size} bytes, ${left} left`, field);
    const start = this.pos;
    this.pos += size;
    return start;
  }

  private expectWire(tag: number, expected: number, field: string): void {
    const wireType = tag & 7;
    if (wireType !== expected) {
      this.fail(`wire type ${wireType} (${WIRE_NAMES[wireType] ?? 'unknown'}), expected ${WIRE_NAMES[expected] ?? expected}`, field);
    }
  }

  /** Varint as a double: exact up to 2^53, which covers tags and lengths (larger ones fail the bounds checks). */
  private varint(field?: string): number {
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.nextByte(field);
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    return this.fail('varint longer than 10 bytes', field);
  }

  private varintBig(field?: string): bigint {
    let result = 0n;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.nextByte(field);
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return BigInt.asUintN(64, result);
    }
    return this.fail('varint longer than 10 bytes', field);
  }

  private nextByte(field?: string): number {
    if (this.pos >= this.end) this.fail('truncated varint', field);
    const byte = this.bytes[this.pos] ?? 0;
    this.pos += 1;
    return byte;
  }

  /** Throws naming the message path, or the field inside it when known. */
  private fail(what: string, field?: string): never {
    const where = field === undefined ? this.path || 'body' : joinPath(this.path, field);
    throw new OtlpPayloadError(`${where}: ${what}`);
  }
}

/** Field number of a tag read by `ProtoReader.tag()`. */
export function fieldOf(tag: number): number {
  return tag >>> 3;
}
