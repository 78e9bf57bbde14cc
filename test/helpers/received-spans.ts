import { expect } from 'vitest';
import type { ReceivedEvent, ReceivedSpan } from './otlp-receiver';

/** What the end-to-end tests look up in the spans (and requests) a test server received. */

/** The one item of a lookup that must find exactly one; `what` names it when it does not. */
export function onlyOne<T>(found: readonly T[], what: string): T {
  expect(found, what).toHaveLength(1);
  return found[0]!;
}

export const exceptionEvents = (span: ReceivedSpan): ReceivedEvent[] => span.events.filter((event) => event.name === 'exception');

export const durationMs = (span: ReceivedSpan): number => Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;
