/**
 * Reading headers in the shapes undici's diagnostics_channel messages carry them. Request headers
 * are a `name: value\r\n` block in undici 5 and an array of alternating names and values (a value
 * may itself be an array) from undici 6 on; response headers are alternating raw names and values,
 * Buffers or strings. Names keep the caller's case, so they are compared case-insensitively;
 * `name` arguments must be lowercase.
 */

export type RequestHeaders = string | ReadonlyArray<string | readonly string[]>;
export type RawHeaders = ReadonlyArray<Buffer | string>;

/** The values of one request header, or undefined when the request does not carry it. */
export function requestHeaderValues(headers: RequestHeaders | undefined, name: string): string[] | undefined {
  if (typeof headers === 'string') return headerBlockValues(headers, name);
  if (!Array.isArray(headers)) return undefined;
  let values: string[] | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (!sameName(headers[i], name)) continue;
    const value = headers[i + 1];
    values ??= [];
    if (Array.isArray(value)) for (const item of value) values.push(String(item));
    else values.push(String(value));
  }
  return values;
}

export function hasRequestHeader(headers: RequestHeaders | undefined, name: string): boolean {
  return requestHeaderValues(headers, name) !== undefined;
}

/** The values of one response header from undici's raw list, decoded as undici's Headers does (latin1). */
export function responseHeaderValues(raw: RawHeaders | undefined, name: string): string[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  let values: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i];
    if (key === undefined || key.length !== name.length) continue;
    if ((typeof key === 'string' ? key : key.toString('latin1')).toLowerCase() !== name) continue;
    const value = raw[i + 1]!;
    (values ??= []).push(typeof value === 'string' ? value : value.toString('latin1'));
  }
  return values;
}

/**
 * network.protocol.version from the head undici writes (undici:client:sendHeaders): HTTP/1.1
 * starts with its request line, HTTP/2 with pseudo-headers (`:authority: ...`).
 */
export function protocolVersion(head: unknown): string | undefined {
  if (typeof head !== 'string') return undefined;
  if (head.charCodeAt(0) === 0x3a /* ':' */) return '2';
  const lineEnd = head.indexOf('\r\n');
  return (lineEnd === -1 ? head : head.slice(0, lineEnd)).endsWith(' HTTP/1.1') ? '1.1' : undefined;
}

function headerBlockValues(block: string, name: string): string[] | undefined {
  let values: string[] | undefined;
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf('\r\n', start);
    if (end === -1) end = block.length;
    const colon = block.indexOf(':', start);
    if (colon !== -1 && colon < end && colon - start === name.length && sameName(block.slice(start, colon), name)) {
      (values ??= []).push(block.slice(colon + 1, end).trim());
    }
    start = end + 2;
  }
  return values;
}

/** Compares lengths first: most names differ there, and no lowercase copy is made for them. */
function sameName(candidate: unknown, name: string): boolean {
  return typeof candidate === 'string' && candidate.length === name.length && candidate.toLowerCase() === name;
}
