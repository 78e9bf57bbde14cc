import type { BaggageEntry, Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { baggageEntryMetadataFromString, createBaggage, getBaggage, setBaggage } from '../api/baggage';
import { joinedValues, trimOws } from './header-values';

export const BAGGAGE_HEADER = 'baggage';
/** W3C Baggage limits: list-members and bytes per header. */
export const MAX_BAGGAGE_MEMBERS = 64;
export const MAX_BAGGAGE_BYTES = 8192;

// key = token (RFC 7230)
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// value = *baggage-octet: printable ASCII except '"', ',', ';' and '\'
const RAW_VALUE_RE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
// Properties are kept raw as metadata: printable ASCII, spaces and tabs, no ',' (it would end the member).
const PROPERTIES_RE = /^[\t\x20-\x2b\x2d-\x7e]*$/;
// Characters sent as they are: the baggage-octets except '%', which starts an escape.
const UNESCAPED_VALUE_RE = /^[\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const CHAR_TO_ESCAPE_RE = /[^\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]/gu;

const PERCENT = 0x25;

/** W3C Baggage: the `baggage` header, merged into (and read from) the context's baggage. */
export class BaggagePropagator implements TextMapPropagator {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const baggage = getBaggage(context);
    if (baggage === undefined) return;
    let header = '';
    let members = 0;
    for (const [key, entry] of baggage.getAllEntries()) {
      if (members === MAX_BAGGAGE_MEMBERS) break;
      const member = serializeMember(key, entry);
      if (member === undefined) continue;
      const next = header === '' ? member : `${header},${member}`;
      if (next.length > MAX_BAGGAGE_BYTES) break; // ASCII only, so characters are bytes
      header = next;
      members++;
    }
    if (header !== '') setter.set(carrier, BAGGAGE_HEADER, header);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      const header = joinedValues(getter.get(carrier, BAGGAGE_HEADER));
      const entries = header === undefined ? undefined : parseBaggage(header);
      if (entries === undefined) return context;
      const existing = getBaggage(context);
      if (existing === undefined) return setBaggage(context, createBaggage(entries));
      // Baggage already in the context is kept; the header's entries win on the same key.
      const merged: Record<string, BaggageEntry> = Object.create(null);
      for (const [key, entry] of existing.getAllEntries()) merged[key] = entry;
      for (const key in entries) merged[key] = entries[key];
      return setBaggage(context, createBaggage(merged));
    } catch {
      return context; // a carrier or getter that throws carries no baggage
    }
  }

  fields(): string[] {
    return [BAGGAGE_HEADER];
  }
}

/**
 * The entries of a baggage header (values percent-decoded, properties as metadata), or undefined
 * when it has none. Malformed members are skipped; reading stops after 64 members or 8192 bytes.
 */
export function parseBaggage(header: string): Record<string, BaggageEntry> | undefined {
  // Only whole members within the byte limit count: cut at the last ',' inside it.
  const text = header.length <= MAX_BAGGAGE_BYTES ? header : header.slice(0, Math.max(0, header.lastIndexOf(',', MAX_BAGGAGE_BYTES)));
  let entries: Record<string, BaggageEntry> | undefined;
  let members = 0;
  let start = 0;
  while (start < text.length && members < MAX_BAGGAGE_MEMBERS) {
    let end = text.indexOf(',', start);
    if (end === -1) end = text.length;
    const member = trimOws(text, start, end);
    start = end + 1;
    if (member === '') continue;
    members++;
    const eq = member.indexOf('=');
    if (eq === -1) continue;
    const semicolon = member.indexOf(';', eq);
    const key = trimOws(member, 0, eq);
    const rawValue = trimOws(member, eq + 1, semicolon === -1 ? member.length : semicolon);
    if (!TOKEN_RE.test(key) || !RAW_VALUE_RE.test(rawValue)) continue;
    const value = percentDecode(rawValue);
    if (value === undefined) continue;
    const entry: BaggageEntry = { value };
    if (semicolon !== -1) {
      const properties = trimOws(member, semicolon + 1, member.length);
      if (!PROPERTIES_RE.test(properties)) continue;
      if (properties !== '') entry.metadata = baggageEntryMetadataFromString(properties);
    }
    // A null prototype, so that a key such as "__proto__" is just a key.
    entries ??= Object.create(null) as Record<string, BaggageEntry>;
    entries[key] = entry;
  }
  return entries;
}

/** `key=value[;properties]` for the header, or undefined when the entry cannot be sent. */
function serializeMember(key: string, entry: BaggageEntry): string | undefined {
  if (!TOKEN_RE.test(key)) return undefined;
  const value = percentEncode(String(entry.value));
  if (value === undefined) return undefined;
  const properties = entry.metadata?.toString();
  return properties && PROPERTIES_RE.test(properties) ? `${key}=${value};${properties}` : `${key}=${value}`;
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
      bytes[length++] = code; // ASCII: the value matched RAW_VALUE_RE
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
