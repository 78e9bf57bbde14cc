import type { TraceState as ApiTraceState } from '@opentelemetry/api';
import { trimOws } from './header-values';

/** W3C Trace Context: a tracestate holds at most 32 list-members. */
export const MAX_TRACE_STATE_MEMBERS = 32;
/** Size a propagated tracestate is cut down to, and the size of entries dropped first. */
const MAX_SERIALIZED_LENGTH = 512;
const LARGE_ENTRY_LENGTH = 128;

// Level 2: key = (lcalpha / DIGIT) 0*255(keychar), keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@".
// Level 1's tenant@system keys are a subset of this grammar.
const KEY_RE = /^[a-z0-9][a-z0-9_\-*/@]{0,255}$/;
// value = 0*255(chr) nblk-chr: printable ASCII except ',' and '=', no trailing space.
const VALUE_RE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

type Entry = readonly [key: string, value: string];

/**
 * An immutable W3C tracestate: entries in header order, the most recently set first.
 * Invalid keys or values given to set() are ignored, so a TraceState always serializes to a valid header.
 */
export class TraceState implements ApiTraceState {
  private serialized: string | undefined;

  /** `entries` must already be valid and unique; outside this module start from `new TraceState()`. */
  constructor(private readonly entries: readonly Entry[] = []) {}

  get(key: string): string | undefined {
    for (const [entryKey, value] of this.entries) {
      if (entryKey === key) return value;
    }
    return undefined;
  }

  /** Puts `key` first (the spec's rule for an updated entry), dropping the rightmost entry beyond 32. */
  set(key: string, value: string): TraceState {
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(value)) return this;
    const next: Entry[] = [[key, value]];
    for (const entry of this.entries) {
      if (entry[0] !== key && next.length < MAX_TRACE_STATE_MEMBERS) next.push(entry);
    }
    return new TraceState(next);
  }

  unset(key: string): TraceState {
    if (this.get(key) === undefined) return this;
    const next: Entry[] = [];
    for (const entry of this.entries) {
      if (entry[0] !== key) next.push(entry);
    }
    return new TraceState(next);
  }

  /** The header value, cut down to 512 characters when needed (computed once: the state is immutable). */
  serialize(): string {
    this.serialized ??= serializeWithinLimit(this.entries);
    return this.serialized;
  }
}

export function isValidTraceStateKey(key: string): boolean {
  return KEY_RE.test(key);
}

export function isValidTraceStateValue(value: string): boolean {
  return VALUE_RE.test(value);
}

/**
 * Parses a tracestate header. Any malformed list-member or more than 32 members makes the whole
 * header invalid: undefined, and the caller drops it. A key repeated later in the list is dropped
 * there, its first (most recent) value kept: Level 2 lets a vendor discard duplicates rather than
 * lose the whole header.
 */
export function parseTraceState(header: string): TraceState | undefined {
  const entries: Entry[] = [];
  let members = 0; // duplicates count too: a list of 33 members is invalid whatever they hold
  let start = 0;
  while (start <= header.length) {
    let end = header.indexOf(',', start);
    if (end === -1) end = header.length;
    const member = trimOws(header, start, end);
    start = end + 1;
    if (member === '') continue; // empty list-members are allowed and ignored
    if (++members > MAX_TRACE_STATE_MEMBERS) return undefined;
    const eq = member.indexOf('=');
    if (eq === -1) return undefined;
    const key = member.slice(0, eq);
    const value = member.slice(eq + 1);
    if (!KEY_RE.test(key) || !VALUE_RE.test(value)) return undefined;
    if (!hasKey(entries, key)) entries.push([key, value]);
  }
  return new TraceState(entries);
}

function hasKey(entries: readonly Entry[], key: string): boolean {
  for (const entry of entries) {
    if (entry[0] === key) return true;
  }
  return false;
}

/** W3C size rule: over 512 characters, drop entries longer than 128 first, then entries from the end. */
function serializeWithinLimit(entries: readonly Entry[]): string {
  let kept = entries;
  if (serializedLength(kept) > MAX_SERIALIZED_LENGTH) {
    const small: Entry[] = [];
    for (const entry of entries) {
      if (memberLength(entry) <= LARGE_ENTRY_LENGTH) small.push(entry);
    }
    while (serializedLength(small) > MAX_SERIALIZED_LENGTH) small.pop();
    kept = small;
  }
  let header = '';
  for (const [key, value] of kept) {
    header = header === '' ? `${key}=${value}` : `${header},${key}=${value}`;
  }
  return header;
}

function serializedLength(entries: readonly Entry[]): number {
  let length = entries.length - 1; // the commas
  for (const entry of entries) length += memberLength(entry);
  return length;
}

function memberLength([key, value]: Entry): number {
  return key.length + 1 + value.length;
}
