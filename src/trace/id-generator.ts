/**
 * Random bytes are drawn from the OS in 8 KiB refills (about 340 trace+span id pairs), so an id
 * costs a hex conversion, not a syscall. Ids are never all zeros, which W3C Trace Context forbids.
 */
const POOL_SIZE = 8192;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function reserve(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    // Loaded at the first span rather than at startup.
    (require('node:crypto') as typeof import('node:crypto')).randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return start;
}

/** 16 random bytes as 32 lowercase hex characters. */
export function newTraceId(): string {
  for (;;) {
    const at = reserve(16);
    if ((pool.readUInt32LE(at) | pool.readUInt32LE(at + 4) | pool.readUInt32LE(at + 8) | pool.readUInt32LE(at + 12)) !== 0) {
      return pool.toString('hex', at, at + 16);
    }
  }
}

/** 8 random bytes as 16 lowercase hex characters. */
export function newSpanId(): string {
  for (;;) {
    const at = reserve(8);
    if ((pool.readUInt32LE(at) | pool.readUInt32LE(at + 4)) !== 0) return pool.toString('hex', at, at + 8);
  }
}
