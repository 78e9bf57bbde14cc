import type { Baggage, BaggageEntry, Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { baggageEntryMetadataFromString, getBaggage, withBaggageEntries } from '../api/baggage';
import { BaggageBudget, isBaggageKey, isBaggagePropertyList, isBaggageWireValue, MAX_BAGGAGE_BYTES } from './baggage-rules';
import { joinedValues, trimOws } from './header-values';

export { MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBER_BYTES, MAX_BAGGAGE_MEMBERS } from './baggage-rules';

export const BAGGAGE_HEADER = 'baggage';

// Characters sent as they are: the baggage-octets except '%', which starts an escape.
const UNESCAPED_VALUE_RE = /^[\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const CHAR_TO_ESCAPE_RE = /[^\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]/gu;

const PERCENT = 0x25;

/**
 * W3C Baggage: the `baggage` header, merged into (and read from) the context's baggage. Both ways,
 * a list-member that breaks the grammar or the limits (see baggage-rules.ts) is dropped, never sent.
 */
export class BaggagePropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const baggage = getBaggage(context);
    if (baggage === undefined) return;
    const header = serializeBaggage(baggage);
    if (header !== '') setter.set(carrier, BAGGAGE_HEADER, header);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      const header = joinedValues(getter.get(carrier, BAGGAGE_HEADER));
      const entries = header === undefined ? undefined : parseBaggage(header);
      return entries === undefined ? context : withBaggageEntries(context, entries);
    } catch {
      return context; // a carrier or getter that throws carries no baggage
    }
  }

  fields(): string[] {
    return [BAGGAGE_HEADER];
  }
}

/** The header for the baggage: the members that follow the rules, up to the limits ('' for none). */
function serializeBaggage(baggage: Baggage): string {
  const budget = new BaggageBudget();
  let header = '';
  try {
    for (const [key, entry] of baggage.getAllEntries()) {
      if (budget.full) {
        budget.dropRest();
        break;
      }
      const member = serializeMember(key, entry);
      if (member === undefined) budget.dropMalformed();
      else if (budget.fits(member.length)) header = header === '' ? member : `${header},${member}`;
    }
  } catch {
    budget.dropRest(); // baggage or metadata of the application's making that throws: send what was read
  }
  budget.report('baggage header sent');
  return header;
}

/**
 * The entries of a baggage header (values percent-decoded, properties as metadata), or undefined
 * when it has none. Members breaking the grammar or over the size of one member are dropped whole;
 * only the first 180 members within the first 8192 bytes are read.
 */
export function parseBaggage(header: string): Record<string, BaggageEntry> | undefined {
  const budget = new BaggageBudget();
  // Only whole members within the byte limit count: cut at the last ',' inside it.
  let text = header;
  if (header.length > MAX_BAGGAGE_BYTES) {
    text = header.slice(0, Math.max(0, header.lastIndexOf(',', MAX_BAGGAGE_BYTES)));
    budget.dropRest();
  }
  let entries: Record<string, BaggageEntry> | undefined;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(',', start);
    if (end === -1) end = text.length;
    const member = trimOws(text, start, end);
    start = end + 1;
    if (member === '') continue;
    if (budget.full) {
      budget.dropRest();
      break;
    }
    const eq = member.indexOf('=');
    const semicolon = eq === -1 ? -1 : member.indexOf(';', eq);
    const key = eq === -1 ? '' : trimOws(member, 0, eq);
    const rawValue = eq === -1 ? '' : trimOws(member, eq + 1, semicolon === -1 ? member.length : semicolon);
    const value = isBaggageKey(key) && isBaggageWireValue(rawValue) ? percentDecode(rawValue) : undefined;
    const properties = semicolon === -1 ? undefined : trimOws(member, semicolon + 1, member.length);
    if (value === undefined || (properties !== undefined && !isBaggagePropertyList(properties))) {
      budget.dropMalformed();
      continue;
    }
    if (!budget.fits(member.length)) continue;
    // A null prototype, so that a key such as "__proto__" is just a key.
    entries ??= Object.create(null) as Record<string, BaggageEntry>;
    entries[key] = properties === undefined ? { value } : { value, metadata: baggageEntryMetadataFromString(properties) };
  }
  budget.report('baggage header received');
  return entries;
}

/** `key=value[;properties]` for the header, or undefined when the entry breaks the grammar. */
function serializeMember(key: string, entry: BaggageEntry): string | undefined {
  if (!isBaggageKey(key)) return undefined;
  const value = percentEncode(String(entry.value));
  if (value === undefined) return undefined;
  const metadata = entry.metadata?.toString();
  if (metadata === undefined) return `${key}=${value}`;
  const properties = trimOws(String(metadata));
  if (properties === '') return `${key}=${value}`;
  // Properties are opaque: sent as given when they follow the grammar, else the member is not sent.
  return isBaggagePropertyList(properties) ? `${key}=${value};${properties}` : undefined;
}

/** Escapes what is not a baggage-octet, plus '%'; undefined for a string that is not valid UTF-16. */
function percentEncode(value: string): string | undefined {
  if (UNESCAPED_VALUE_RE.test(value)) return value;
  try {
    return value.replace(CHAR_TO_ESCAPE_RE, encodeURIComponent);
  } catch {
    return undefined; // a lone surrogate
  }
}

/**
 * Decodes %XX escapes as UTF-8, invalid byte sequences becoming U+FFFD as the spec asks
 * (decodeURIComponent would throw instead). Undefined for a '%' not followed by two hex digits.
 */
function percentDecode(value: string): string | undefined {
  if (value.indexOf('%') === -1) return value;
  const bytes = Buffer.allocUnsafe(value.length);
  let length = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code !== PERCENT) {
      bytes[length++] = code; // ASCII: the value is made of baggage-octets
      continue;
    }
    const high = hexDigitValue(value.charCodeAt(i + 1));
    const low = hexDigitValue(value.charCodeAt(i + 2));
    if (high === -1 || low === -1) return undefined;
    bytes[length++] = high * 16 + low;
    i += 2;
  }
  return bytes.toString('utf8', 0, length);
}

function hexDigitValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30; // 0-9
  if (code >= 0x41 && code <= 0x46) return code - 0x37; // A-F
  if (code >= 0x61 && code <= 0x66) return code - 0x57; // a-f
  return -1;
}
