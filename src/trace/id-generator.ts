/**
 * Trace and span ids from Math.random: ids must be unique, not secret (they travel in clear in
 * every traceparent header), and V8's generator costs a few nanoseconds per call where drawing
 * from the OS costs a native call. Ids are never all zeros, which W3C Trace Context forbids.
 */
interface HexBuffer extends Buffer {
  /** Buffer's own hex encoder, without toString()'s argument handling (on every Node we support). */
  hexSlice?(start: number, end: number): string;
}

const scratch: HexBuffer = Buffer.allocUnsafe(16);
const hex: (start: number, end: number) => string =
  typeof scratch.hexSlice === 'function' ? (start, end) => scratch.hexSlice!(start, end) : (start, end) => scratch.toString('hex', start, end);

function randomUint32(): number {
  return (Math.random() * 0x100000000) >>> 0;
}

/** Big-endian, as the id's hex reads. */
function put(value: number, at: number): void {
  scratch[at] = value >>> 24;
  scratch[at + 1] = value >>> 16;
  scratch[at + 2] = value >>> 8;
  scratch[at + 3] = value;
}

/** 16 random bytes as 32 lowercase hex characters. */
export function newTraceId(): string {
  let a: number, b: number, c: number, d: number;
  do {
    a = randomUint32();
    b = randomUint32();
    c = randomUint32();
    d = randomUint32();
  } while ((a | b | c | d) === 0);
  put(a, 0);
  put(b, 4);
  put(c, 8);
  put(d, 12);
  return hex(0, 16);
}

/** 8 random bytes as 16 lowercase hex characters. */
export function newSpanId(): string {
  let a: number, b: number;
  do {
    a = randomUint32();
    b = randomUint32();
  } while ((a | b) === 0);
  put(a, 0);
  put(b, 4);
  return hex(0, 8);
}
