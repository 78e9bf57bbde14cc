// What an OTLP/protobuf receiver answers: the export response (partial success) and, with an
// error status, a google.rpc.Status.

import type { ExportResponse } from '../types';

const TWO_POW_32 = 4294967296;

export interface RpcStatus {
  readonly code: number;
  readonly message: string;
}

/** Reads `ExportTraceServiceResponse.partial_success`. Never throws: garbage reads as success. */
export function decodeExportResponse(body: Uint8Array): ExportResponse {
  let rejectedSpans = 0;
  let errorMessage = '';
  const response = new WireReader(body, 0, body.length);
  while (response.more()) {
    const { field, wireType } = response.key();
    if (field !== 1 || wireType !== 2) {
      response.skip(wireType);
      continue;
    }
    const end = response.lengthDelimitedEnd();
    const partial = new WireReader(body, response.position, end);
    while (partial.more()) {
      const inner = partial.key();
      if (inner.field === 1 && inner.wireType === 0) rejectedSpans = Math.max(0, partial.varint());
      else if (inner.field === 2 && inner.wireType === 2) errorMessage = partial.string();
      else partial.skip(inner.wireType);
    }
    if (!partial.ok) return { rejectedSpans: 0, errorMessage: '' };
    response.position = end;
  }
  return response.ok ? { rejectedSpans, errorMessage } : { rejectedSpans: 0, errorMessage: '' };
}

/** Reads a `google.rpc.Status` (gRPC error details). Never throws: garbage reads as code 0. */
export function decodeStatus(body: Uint8Array): RpcStatus {
  let code = 0;
  let message = '';
  const status = new WireReader(body, 0, body.length);
  while (status.more()) {
    const { field, wireType } = status.key();
    if (field === 1 && wireType === 0)
      code = status.varint() | 0; // int32
    else if (field === 2 && wireType === 2) message = status.string();
    else status.skip(wireType); // details (3) and unknown fields
  }
  return status.ok ? { code, message } : { code: 0, message: '' };
}

/** A lenient cursor over the wire format: malformed input clears `ok` instead of throwing. */
class WireReader {
  ok = true;

  constructor(
    private readonly bytes: Uint8Array,
    public position: number,
    private readonly end: number,
  ) {}

  more(): boolean {
    return this.ok && this.position < this.end;
  }

  key(): { field: number; wireType: number } {
    const key = this.varint();
    const field = Math.floor(key / 8);
    if (field < 1 || field > 0x1fffffff) this.ok = false;
    return { field, wireType: key & 7 };
  }

  /** A varint read as a two's-complement int64, exact up to 2^53 in magnitude. */
  varint(): number {
    let low = 0;
    let high = 0;
    for (let i = 0; i < 10; i++) {
      if (this.position >= this.end) break;
      const byte = this.bytes[this.position++]!;
      const bits = byte & 0x7f;
      if (i < 4) low |= bits << (7 * i);
      else if (i === 4) {
        low |= bits << 28;
        high |= bits >>> 4;
      } else high |= bits << (7 * i - 32);
      if (byte < 0x80) return high * TWO_POW_32 + (low >>> 0);
    }
    this.ok = false;
    return 0;
  }

  /** Reads a length prefix and returns where that field ends. */
  lengthDelimitedEnd(): number {
    const length = this.varint();
    const end = this.position + length;
    if (length < 0 || end > this.end) {
      this.ok = false;
      return this.position;
    }
    return end;
  }

  string(): string {
    const end = this.lengthDelimitedEnd();
    if (!this.ok) return '';
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + this.position, end - this.position).toString('utf8');
    this.position = end;
    return text;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.position = this.lengthDelimitedEnd();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        this.ok = false; // groups (3, 4) are not used by these messages; 6 and 7 do not exist
    }
  }

  private advance(bytes: number): void {
    if (this.position + bytes > this.end) this.ok = false;
    else this.position += bytes;
  }
}
