// Small statistics and formatting helpers for benchmark figures.

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export const min = (values) => Math.min(...values);
export const max = (values) => Math.max(...values);

/** "1234 (1200–1300)": the median and the spread of a set of runs. */
export function spread(values, digits = 0) {
  return `${fixed(median(values), digits)} (${fixed(min(values), digits)}–${fixed(max(values), digits)})`;
}

export function fixed(value, digits = 0) {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** Megabytes as budgets state them: 10^6 bytes (stricter than MiB). */
export const MB = 1e6;
export const mb = (bytes, digits = 1) => fixed(bytes / MB, digits);

/** A Markdown table from a header row and data rows. */
export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** What the report prints beside a figure and its budget. */
export function verdict(ok) {
  return ok ? 'within budget' : '**over budget**';
}
