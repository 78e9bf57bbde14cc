import type { TraceState } from '@opentelemetry/api';
import { diag } from '../diag/logger';

/**
 * OpenTelemetry's own tracestate entry, `ot=th:c;rv:6e6d1a75832a2f`: the sampling threshold a
 * sampled span was kept under (`th`) and, when the trace carries one, its explicit randomness
 * (`rv`). Consistent probability sampling reads and writes it (sampler.ts).
 */
export const OT_KEY = 'ot';

const MAX_OT_VALUE_LENGTH = 256;
// list = list-member *(";" list-member); list-member = key ":" value
const OT_VALUE_RE = /^[a-z][a-z0-9]*:[A-Za-z0-9._-]*(?:;[a-z][a-z0-9]*:[A-Za-z0-9._-]*)*$/;
// th: 1 to 14 lowercase hex digits (trailing zeros may be left out); rv: exactly 14.
const THRESHOLD_RE = /^[0-9a-f]{1,14}$/;
const RANDOMNESS_RE = /^[0-9a-f]{14}$/;

/** The value of sub-key `key` (`th`, `rv`) in an `ot` entry's value, if present. */
export function otSubKey(otValue: string, key: string): string | undefined {
  let start = 0;
  while (start < otValue.length) {
    let end = otValue.indexOf(';', start);
    if (end === -1) end = otValue.length;
    if (end - start > key.length && otValue.charCodeAt(start + key.length) === 0x3a && otValue.startsWith(key, start)) {
      return otValue.slice(start + key.length + 1, end);
    }
    start = end + 1;
  }
  return undefined;
}

/**
 * The trace's explicit randomness (`rv`), if its tracestate carries a valid one. Checked here too:
 * a tracestate the application built never went through withValidOtEntry.
 */
export function explicitRandomness(traceState: TraceState | undefined): string | undefined {
  const ot = traceState?.get(OT_KEY);
  const randomness = ot === undefined ? undefined : otSubKey(ot, 'rv');
  return randomness !== undefined && RANDOMNESS_RE.test(randomness) ? randomness : undefined;
}

/** The threshold (`th`) the parent span was sampled under, if its tracestate carries a valid one. */
export function samplingThreshold(traceState: TraceState | undefined): string | undefined {
  const ot = traceState?.get(OT_KEY);
  const threshold = ot === undefined ? undefined : otSubKey(ot, 'th');
  return threshold !== undefined && THRESHOLD_RE.test(threshold) ? threshold : undefined;
}

/**
 * The tracestate read from a carrier, with its `ot` entry checked: an entry that breaks the `ot`
 * grammar is dropped whole, a malformed `th` or `rv` alone, each with a debug message, so that
 * nothing downstream counts spans by a threshold or decides on a randomness that is not one.
 */
export function withValidOtEntry(traceState: TraceState): TraceState {
  const ot = traceState.get(OT_KEY);
  if (ot === undefined) return traceState;
  if (ot.length > MAX_OT_VALUE_LENGTH || !OT_VALUE_RE.test(ot) || hasRepeatedSubKey(ot)) {
    diag.debug(`tracestate: the malformed "ot" entry "${ot.slice(0, 64)}" was dropped`);
    return traceState.unset(OT_KEY);
  }
  let valid = ot;
  const threshold = otSubKey(ot, 'th');
  if (threshold !== undefined && !THRESHOLD_RE.test(threshold)) {
    diag.debug(`tracestate: the malformed sampling threshold "th:${threshold}" was dropped`);
    valid = withSubKey(valid, 'th', undefined);
  }
  const randomness = otSubKey(ot, 'rv');
  if (randomness !== undefined && !RANDOMNESS_RE.test(randomness)) {
    diag.debug(`tracestate: the malformed randomness value "rv:${randomness}" was dropped`);
    valid = withSubKey(valid, 'rv', undefined);
  }
  if (valid === ot) return traceState;
  return valid === '' ? traceState.unset(OT_KEY) : traceState.set(OT_KEY, valid);
}

/** `traceState` with the sampling threshold `threshold`, the same object when it already has it. */
export function withThreshold(traceState: TraceState, threshold: string): TraceState {
  const ot = traceState.get(OT_KEY);
  if (ot === undefined) return traceState.set(OT_KEY, `th:${threshold}`);
  if (otSubKey(ot, 'th') === threshold) return traceState;
  return traceState.set(OT_KEY, withSubKey(ot, 'th', threshold));
}

/** `traceState` without a sampling threshold: what a sampler whose probability is unknown passes on. */
export function withoutThreshold(traceState: TraceState): TraceState {
  const ot = traceState.get(OT_KEY);
  if (ot === undefined || otSubKey(ot, 'th') === undefined) return traceState;
  const rest = withSubKey(ot, 'th', undefined);
  return rest === '' ? traceState.unset(OT_KEY) : traceState.set(OT_KEY, rest);
}

/** An `ot` value with sub-key `key` set to `value` (last), or removed when `value` is undefined. */
function withSubKey(otValue: string, key: string, value: string | undefined): string {
  let result = '';
  for (const member of otValue.split(';')) {
    if (member === '' || member.startsWith(`${key}:`)) continue;
    result = result === '' ? member : `${result};${member}`;
  }
  if (value === undefined) return result;
  return result === '' ? `${key}:${value}` : `${result};${key}:${value}`;
}

function hasRepeatedSubKey(otValue: string): boolean {
  const keys = otValue.split(';').map((member) => member.slice(0, member.indexOf(':')));
  return new Set(keys).size !== keys.length;
}
