/**
 * Trace and span ids from Math.random: ids must be unique, not secret (they travel in clear in
 * every traceparent header), and V8's generator costs a few nanoseconds per call where drawing
 * from the OS costs a native call. Ids are cut from a small pool of random hex, so that the
 * native hex encoding is paid once per 8 span ids rather than once per id; an id is a slice of
 * the pool's string, no copy. The pool stays small because a slice keeps its whole pool alive:
 * an application that holds on to ids (say, of failed requests) holds at most 256 characters
 * per id. Ids are never all zeros, which W3C Trace Context forbids: every id starts on an
 * 8-byte boundary of the pool, and no 8 bytes of the pool are left all zeros (a chance of 2^-64
 * per id, not worth a comparison on every id). Each id's bytes are also given as 32-bit words
 * (lastIdWords), which the OTLP encoder copies instead of decoding the hex (see id-words.ts).
 */
interface HexBuffer extends Buffer {
  /** Buffer's own hex encoder, without toString()'s argument handling (on every Node we support). */
  hexSlice?(start: number, end: number): string;
}

const POOL_BYTES = 128;
const bytes: HexBuffer = Buffer.alloc(POOL_BYTES);
const words = new Uint32Array(bytes.buffer, bytes.byteOffset, POOL_BYTES / 4);

let pool = '';
let next = 0;

/**
 * The bytes of the id taken last as 32-bit words, in the byte order of id-words.ts: four for a
 * trace id, two for a span id. Read them right after taking the id: the next id overwrites them.
 * One shared array rather than an object per id.
 */
export const lastIdWords = new Int32Array(4);

function refill(): void {
  for (let i = 0; i < words.length; i += 2) {
    words[i] = Math.random() * 0x100000000;
    words[i + 1] = Math.random() * 0x100000000;
    if ((words[i]! | words[i + 1]!) === 0) words[i] = 1;
  }
  pool = typeof bytes.hexSlice === 'function' ? bytes.hexSlice(0, POOL_BYTES) : bytes.toString('hex');
  next = 0;
}

function take(length: number): string {
  if (next + length > pool.length) refill();
  const id = pool.slice(next, next + length);
  // Ids start on 8-byte boundaries: 8 hex characters per word.
  const word = next >>> 3;
  lastIdWords[0] = words[word]!;
  lastIdWords[1] = words[word + 1]!;
  if (length === 32) {
    lastIdWords[2] = words[word + 2]!;
    lastIdWords[3] = words[word + 3]!;
  }
  next += length;
  return id;
}

/** 16 random bytes as 32 lowercase hex characters. */
export function newTraceId(): string {
  return take(32);
}

/** 8 random bytes as 16 lowercase hex characters. */
export function newSpanId(): string {
  return take(16);
}
