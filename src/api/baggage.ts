import type { Baggage, BaggageEntry, BaggageEntryMetadata, Context } from '@opentelemetry/api';
import { createContextKey } from './context';

/** The key @opentelemetry/api stores baggage under (the same symbol in every copy). */
const BAGGAGE_KEY = createContextKey('OpenTelemetry Baggage Key');
const METADATA_TYPE = Symbol('BaggageEntryMetadata');

/** Immutable baggage, interchangeable with @opentelemetry/api's: every change returns a copy. */
class ImmutableBaggage implements Baggage {
  constructor(private readonly entries: ReadonlyMap<string, BaggageEntry>) {}

  getEntry(key: string): BaggageEntry | undefined {
    const entry = this.entries.get(key);
    return entry === undefined ? undefined : { ...entry };
  }

  getAllEntries(): [string, BaggageEntry][] {
    return [...this.entries].map(([key, entry]) => [key, { ...entry }]);
  }

  setEntry(key: string, entry: BaggageEntry): Baggage {
    const entries = new Map(this.entries);
    entries.set(key, entry);
    return new ImmutableBaggage(entries);
  }

  removeEntry(key: string): Baggage {
    return this.removeEntries(key);
  }

  removeEntries(...keys: string[]): Baggage {
    const entries = new Map(this.entries);
    for (const key of keys) entries.delete(key);
    return new ImmutableBaggage(entries);
  }

  clear(): Baggage {
    return new ImmutableBaggage(new Map());
  }
}

export function createBaggage(entries: Record<string, BaggageEntry> = {}): Baggage {
  return new ImmutableBaggage(new Map(Object.entries(entries)));
}

export function getBaggage(context: Context): Baggage | undefined {
  return context.getValue(BAGGAGE_KEY) as Baggage | undefined;
}

export function setBaggage(context: Context, baggage: Baggage): Context {
  return context.setValue(BAGGAGE_KEY, baggage);
}

/**
 * The context with these entries added to its baggage (a new baggage when it has none); entries
 * already there are kept, the given ones win on the same key. One copy, however many entries.
 */
export function withBaggageEntries(context: Context, entries: Record<string, BaggageEntry>): Context {
  const existing = getBaggage(context);
  if (existing === undefined) return setBaggage(context, createBaggage(entries));
  const merged = new Map<string, BaggageEntry>(existing.getAllEntries());
  for (const key in entries) merged.set(key, entries[key]!);
  return setBaggage(context, new ImmutableBaggage(merged));
}

/** Metadata (the `;properties` part of a baggage member) kept as its raw text. */
export function baggageEntryMetadataFromString(text: string): BaggageEntryMetadata {
  return { __TYPE__: METADATA_TYPE, toString: () => text } as unknown as BaggageEntryMetadata;
}
