/** Reading header values out of carriers, where anything may arrive (strings, arrays, junk). */

const SPACE = 0x20;
const TAB = 0x09;

/** A header that must appear once: a repeated header (several values) is ambiguous, so invalid. */
export function singleValue(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'string') return raw[0];
  return undefined;
}

/** A list header: repeated headers are one list (RFC 7230), joined with ','. */
export function joinedValues(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (!Array.isArray(raw)) return undefined;
  let joined = '';
  for (let i = 0; i < raw.length; i++) {
    const part: unknown = raw[i];
    if (typeof part !== 'string') return undefined;
    joined = i === 0 ? part : `${joined},${part}`;
  }
  return joined;
}

/** `text.slice(start, end)` without HTTP optional whitespace (spaces and tabs) at either end. */
export function trimOws(text: string, start = 0, end = text.length): string {
  while (start < end && isOws(text.charCodeAt(start))) start++;
  while (end > start && isOws(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isOws(code: number): boolean {
  return code === SPACE || code === TAB;
}
