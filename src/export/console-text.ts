/** Text helpers the console exporter's tree and insights share. */

/** SpanKind values as words. */
export const KIND_NAMES: readonly string[] = ['internal', 'server', 'client', 'producer', 'consumer'];

/** About four significant digits: 0.123 ms, 4.56 ms, 78.9 ms, 1234 ms. */
export function formatDuration(ms: number): string {
  const value = Math.max(0, ms);
  const digits = value < 1 ? 3 : value < 10 ? 2 : value < 1000 ? 1 : 0;
  return `${value.toFixed(digits)} ms`;
}

/** A share of a whole as a whole percentage; 0 when the whole is empty. */
export function percentOf(part: number, whole: number): string {
  return `${whole > 0 ? Math.round((100 * part) / whole) : 0}%`;
}

/** Control characters would break the layout (or drive the terminal): show them as spaces. */
export function clean(text: unknown): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}
