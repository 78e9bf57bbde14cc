/**
 * Trace and span ids as 32-bit words, the form the OTLP encoder copies into its bytes fields:
 * decoding 48 hex characters per span (its trace and span ids) cost some 3,700 instructions, a
 * third of packing a span, where copying six words costs a few dozen. Word i holds bytes 4i to
 * 4i+3 of the id, the first of them in its low byte (as a little-endian machine reads memory), so
 * writing each word little-endian gives the bytes back in order.
 */
export class TraceIdWords {
  constructor(
    readonly word0: number,
    readonly word1: number,
    readonly word2: number,
    readonly word3: number,
  ) {}
}

/** The words of a valid 32-character hex trace id. */
export function traceIdWordsFromHex(hex: string): TraceIdWords {
  return new TraceIdWords(wordFromHex(hex, 0), wordFromHex(hex, 8), wordFromHex(hex, 16), wordFromHex(hex, 24));
}

/**
 * The word of the 8 hex characters at `start` of a valid id: bytes in order, the first in the low
 * byte. Read digit by digit: parseInt() of a slice cost five times as much.
 */
export function wordFromHex(hex: string, start: number): number {
  let word = 0;
  for (let byte = 0; byte < 4; byte++) {
    const at = start + 2 * byte;
    word |= ((hexDigit(hex.charCodeAt(at)) << 4) | hexDigit(hex.charCodeAt(at + 1))) << (8 * byte);
  }
  return word;
}

/** The value of a hex digit's character code, either case. */
function hexDigit(code: number): number {
  return code <= 0x39 ? code - 0x30 : (code | 0x20) - 0x57;
}
