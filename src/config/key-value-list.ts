export interface KeyValueList {
  readonly entries: Record<string, string>;
  /** Raw entries that could not be read (no '=', empty key, bad percent-encoding). */
  readonly malformed: string[];
}

/**
 * Parses `key1=value1,key2=value2` with percent-encoded values, the format OpenTelemetry uses for
 * OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS (W3C Baggage without properties).
 * A value may itself contain '=' (base64 credentials do): only the first one separates.
 */
export function parseKeyValueList(value: string): KeyValueList {
  const entries: Record<string, string> = {};
  const malformed: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (key === '') {
      malformed.push(entry);
      continue;
    }
    try {
      entries[decodeURIComponent(key)] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      malformed.push(entry);
    }
  }
  return { entries, malformed };
}
