/** Protobuf wire types used by OTLP. */
export const WireType = {
  varint: 0,
  fixed64: 1,
  lengthDelimited: 2,
  fixed32: 5,
} as const;

const TWO_POW_32 = 4294967296;
/** Buffers grown past this by one large export are not kept for the life of the process. */
const MAX_RETAINED_CAPACITY = 1024 * 1024;
/** Strings this short are encoded by a JS loop: cheaper than a call into native code. */
const SHORT_STRING = 32;

/**
 * Writes the protobuf wire format into one growable Buffer. Methods write a whole field (tag and
 * value); the caller decides which fields to skip. Nested messages are written in place: see
 * beginMessage/endMessage.
 */
export class ProtobufWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(private readonly initialCapacity = 64 * 1024) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.position;
  }

  /** Starts a new output, keeping the buffer unless a past output made it very large. */
  reset(): void {
    this.position = 0;
    if (this.buffer.length > MAX_RETAINED_CAPACITY) this.buffer = Buffer.allocUnsafe(this.initialCapacity);
  }

  /** Forgets what was written after `length` (a write that failed half way). */
  truncate(length: number): void {
    if (length >= 0 && length < this.position) this.position = length;
  }

  /** A copy of the bytes written since reset(), so the buffer can be reused at once. */
  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.position));
  }

  tag(field: number, wireType: number): void {
    this.varint32(((field << 3) | wireType) >>> 0);
  }

  varint32(value: number): void {
    this.ensure(5);
    const buffer = this.buffer;
    let position = this.position;
    while (value > 0x7f) {
      buffer[position++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buffer[position++] = value;
    this.position = position;
  }

  /** A 64-bit varint given as two unsigned 32-bit halves. */
  varint64(low: number, high: number): void {
    this.ensure(10);
    const buffer = this.buffer;
    let position = this.position;
    while (high !== 0 || low > 0x7f) {
      buffer[position++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[position++] = low;
    this.position = position;
  }

  uint32Field(field: number, value: number): void {
    this.tag(field, WireType.varint);
    this.varint32(value >>> 0);
  }

  boolField(field: number, value: boolean): void {
    this.tag(field, WireType.varint);
    this.varint32(value ? 1 : 0);
  }

  /** int64 from a safe integer; negative values take ten bytes (two's complement), as the spec says. */
  int64Field(field: number, value: number): void {
    this.tag(field, WireType.varint);
    const magnitude = Math.abs(value);
    let low = (magnitude % TWO_POW_32) >>> 0;
    let high = Math.floor(magnitude / TWO_POW_32) >>> 0;
    if (value < 0) {
      low = (~low + 1) >>> 0;
      high = ~high >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    this.varint64(low, high);
  }

  fixed32Field(field: number, value: number): void {
    this.tag(field, WireType.fixed32);
    this.ensure(4);
    this.uint32LE(value);
  }

  /** A fixed64 given as two unsigned 32-bit halves (values above 2^53 stay exact). */
  fixed64Field(field: number, low: number, high: number): void {
    this.tag(field, WireType.fixed64);
    this.ensure(8);
    this.uint32LE(low);
    this.uint32LE(high);
  }

  doubleField(field: number, value: number): void {
    this.tag(field, WireType.fixed64);
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.position);
    this.position += 8;
  }

  /**
   * A UTF-8 string. Its byte length is unknown until written, but never below its UTF-16 length:
   * room for that length's varint is reserved, and the bytes move right in the rare case
   * (non-ASCII text near a 128^n boundary) where the real length needs a longer varint.
   */
  stringField(field: number, value: string): void {
    this.tag(field, WireType.lengthDelimited);
    const units = value.length;
    this.ensure(10 + units * 3);
    const lengthAt = this.position;
    const reserved = varintSize(units);
    const start = lengthAt + reserved;
    const byteLength = units <= SHORT_STRING ? this.writeShortUtf8(value, start) : this.buffer.write(value, start, 'utf8');
    this.position = start + byteLength;
    this.placeLength(lengthAt, reserved, byteLength);
  }

  /** Bytes given as a hex string (trace and span ids); characters that are not hex count as 0. */
  hexBytesField(field: number, hex: string): void {
    this.tag(field, WireType.lengthDelimited);
    const byteLength = hex.length >>> 1;
    this.varint32(byteLength);
    this.ensure(byteLength);
    const buffer = this.buffer;
    let position = this.position;
    for (let i = 0; i < hex.length - 1; i += 2) {
      const high = hex.charCodeAt(i);
      const low = hex.charCodeAt(i + 1);
      buffer[position++] = ((high < 128 ? HEX_VALUE[high] : 0) << 4) | (low < 128 ? HEX_VALUE[low] : 0);
    }
    this.position = position;
  }

  /**
   * An 8-byte id (a span id) given as two words in byte order (see id-words.ts). Id fields are
   * numbered below 16 in every OTLP message, so their tag is one byte.
   */
  idField(field: number, word0: number, word1: number): void {
    this.idHeader(field, 8);
    this.uint32LE(word0);
    this.uint32LE(word1);
  }

  /** A 16-byte id (a trace id) given as four words in byte order (see id-words.ts); a one-byte tag, as idField's. */
  traceIdField(field: number, word0: number, word1: number, word2: number, word3: number): void {
    this.idHeader(field, 16);
    this.uint32LE(word0);
    this.uint32LE(word1);
    this.uint32LE(word2);
    this.uint32LE(word3);
  }

  /** The one-byte tag and one-byte length of an id field, with room made for its bytes. */
  private idHeader(field: number, byteLength: number): void {
    this.ensure(2 + byteLength);
    const buffer = this.buffer;
    const position = this.position;
    buffer[position] = (field << 3) | WireType.lengthDelimited;
    buffer[position + 1] = byteLength;
    this.position = position + 2;
  }

  /** Four little-endian bytes, stored directly: Buffer's writeUInt32LE validates its arguments on every call. */
  private uint32LE(value: number): void {
    const buffer = this.buffer;
    const position = this.position;
    buffer[position] = value;
    buffer[position + 1] = value >>> 8;
    buffer[position + 2] = value >>> 16;
    buffer[position + 3] = value >>> 24;
    this.position = position + 4;
  }

  /** A length-delimited field whose content was encoded earlier. */
  bytesField(field: number, bytes: Uint8Array): void {
    this.tag(field, WireType.lengthDelimited);
    this.varint32(bytes.length);
    this.raw(bytes);
  }

  /** Bytes already in wire format (fields encoded earlier), appended as they are. */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.position);
    this.position += bytes.length;
  }

  /** A copy of the bytes written since `start`. */
  copyFrom(start: number): Buffer {
    return Buffer.from(this.buffer.subarray(start, this.position));
  }

  /**
   * Opens a nested message: writes its tag and reserves one byte for its length. Returns where the
   * body starts, to be passed to endMessage once the body is written.
   */
  beginMessage(field: number): number {
    this.tag(field, WireType.lengthDelimited);
    this.ensure(1);
    return ++this.position;
  }

  /** Closes a nested message, widening the reserved length byte when the body reached 128 bytes. */
  endMessage(bodyStart: number): void {
    this.placeLength(bodyStart - 1, 1, this.position - bodyStart);
  }

  /**
   * Writes `length` as a varint at lengthAt, where `reserved` bytes were left before a body of
   * that length that ends at the current position. Moves the body if the varint needs more room.
   */
  private placeLength(lengthAt: number, reserved: number, length: number): void {
    const needed = varintSize(length);
    if (needed > reserved) {
      const shift = needed - reserved;
      this.ensure(shift);
      const bodyStart = lengthAt + reserved;
      this.buffer.copyWithin(bodyStart + shift, bodyStart, this.position);
      this.position += shift;
    }
    const buffer = this.buffer;
    let position = lengthAt;
    while (length > 0x7f) {
      buffer[position++] = (length & 0x7f) | 0x80;
      length >>>= 7;
    }
    buffer[position] = length;
  }

  /** UTF-8 encoding of a short string (lone surrogates become U+FFFD, as Buffer does). */
  private writeShortUtf8(value: string, start: number): number {
    const buffer = this.buffer;
    let position = start;
    for (let i = 0; i < value.length; i++) {
      let code = value.charCodeAt(i);
      if (code < 0x80) {
        buffer[position++] = code;
      } else if (code < 0x800) {
        buffer[position++] = 0xc0 | (code >> 6);
        buffer[position++] = 0x80 | (code & 0x3f);
      } else {
        if (code >= 0xd800 && code <= 0xdfff) {
          const next = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
          if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
            code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
            i++;
            buffer[position++] = 0xf0 | (code >> 18);
            buffer[position++] = 0x80 | ((code >> 12) & 0x3f);
            buffer[position++] = 0x80 | ((code >> 6) & 0x3f);
            buffer[position++] = 0x80 | (code & 0x3f);
            continue;
          }
          code = 0xfffd;
        }
        buffer[position++] = 0xe0 | (code >> 12);
        buffer[position++] = 0x80 | ((code >> 6) & 0x3f);
        buffer[position++] = 0x80 | (code & 0x3f);
      }
    }
    return position - start;
  }

  private ensure(bytes: number): void {
    const required = this.position + bytes;
    if (required <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(required, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.position);
    this.buffer = grown;
  }
}

/** Bytes taken by the varint of an unsigned 32-bit value. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** The value of each ASCII hex digit (either case); every other character counts as 0. */
const HEX_VALUE = new Uint8Array(128);
for (let digit = 0; digit < 16; digit++) {
  HEX_VALUE[digit.toString(16).charCodeAt(0)] = digit;
  HEX_VALUE[digit.toString(16).toUpperCase().charCodeAt(0)] = digit;
}
