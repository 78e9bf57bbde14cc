import { SpanKind } from '../api/trace';
import { ATTR_HTTP_ROUTE, ATTR_URL_PATH } from '../semconv';
import type { ReadableSpan } from '../trace/types';
import { findInsights, type InsightThresholds } from './console-insights';
import { clean, formatDuration, KIND_NAMES, truncate } from './console-text';
import { buildTree, isLocalRoot, type TraceTree } from './console-tree';

/** Attributes shown on a span's line when present, in this order. */
export const KEY_ATTRIBUTES = [
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'url.full',
  'server.address',
  'db.system.name',
  'db.namespace',
  'db.query.summary',
  'rpc.system',
  'rpc.service',
  'rpc.method',
  'rpc.grpc.status_code',
  'messaging.system',
  'messaging.operation.name',
  'messaging.destination.name',
  'error.type',
] as const;

const BAR_WIDTH = 30;
const MAX_NAME_COLUMN = 60;
const MAX_VALUE_LENGTH = 80;
/** Marks the spans on the critical path, in a column of its own before the tree. */
export const CRITICAL_MARK = '◆';

export interface Palette {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const ansi = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
export const COLORS: Palette = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), cyan: ansi(36, 39) };
const plain = (text: string): string => text;
export const NO_COLORS: Palette = { bold: plain, dim: plain, red: plain, green: plain, cyan: plain };

/** What is remembered of a printed trace, so that spans ending after it can be shown under theirs. */
export interface PrintedTrace {
  start: number;
  end: number;
  /** How each of its spans was named, by span id. */
  readonly names: Map<string, string>;
}

export interface RenderOptions {
  readonly service: string;
  readonly palette: Palette;
  /** The trace was printed before: these spans continue it, under the spans they belong to. */
  readonly continues?: PrintedTrace;
  readonly thresholds?: InsightThresholds;
}

/** A span's parent printed with an earlier part of the trace: a line naming it, its late children under it. */
interface PrintedParent {
  readonly name: string;
  readonly startTime: number;
  readonly kids: ReadableSpan[];
}

interface Row {
  readonly node: ReadableSpan | PrintedParent;
  /** Tree connectors before the name. */
  readonly branch: string;
  /** The span's parent is neither in this tree, nor remote, nor printed before. */
  readonly orphan: boolean;
}

/**
 * A header line, one line per span (children under their parent in start order, the critical
 * path marked) and, under the tree, the insights: a few lines on where the time went.
 */
export function renderTrace(traceId: string, spans: readonly ReadableSpan[], options: RenderOptions): string {
  const { palette, continues } = options;
  let start = Infinity;
  let end = -Infinity;
  for (const span of spans) {
    start = Math.min(start, span.startTime);
    end = Math.max(end, span.endTime);
  }
  const tree = buildTree(spans);
  // A continuation keeps the earlier part's time scale, so its bars line up with the ones above.
  const scaleStart = continues ? Math.min(start, continues.start) : start;
  const scaleEnd = continues ? Math.max(end, continues.end) : end;
  const { criticalPath, insights } = continues ? { criticalPath: new Set<ReadableSpan>(), insights: [] } : findInsights(tree, options.thresholds);

  const rows = treeRows(tree, continues);
  let nameColumn = 0;
  for (const row of rows) nameColumn = Math.max(nameColumn, row.branch.length + clean(row.node.name).length);
  nameColumn = Math.min(nameColumn, MAX_NAME_COLUMN);

  const count = spans.length === 1 ? '1 span' : `${spans.length} spans`;
  let text = palette.bold(`trace ${traceId}`) + `  service ${clean(options.service)}  ${formatDuration(end - start)}  ${count}`;
  const note = continues
    ? `continued: ${spans.length === 1 ? 'a span' : 'spans'} that ended after the trace was printed above`
    : spans.some(isLocalRoot)
      ? ''
      : 'root span not seen';
  if (note) text += palette.dim(`  (${note})`);
  text += '\n';
  const marks = criticalPath.size > 0;
  for (const row of rows) {
    const mark = !marks ? '' : 'kids' in row.node || !criticalPath.has(row.node) ? '  ' : palette.cyan(palette.bold(CRITICAL_MARK)) + ' ';
    text += mark + renderRow(row, nameColumn, scaleStart, scaleEnd - scaleStart, palette) + '\n';
  }
  if (insights.length > 0) {
    text += `  ${palette.bold('insights:')}\n`;
    for (const insight of insights) {
      const kind = insight.kind === 'critical path' ? `critical path (${CRITICAL_MARK})` : insight.kind;
      text += `    ${palette.bold(kind + ':')} ${clean(insight.text)}\n`;
    }
  }
  return text + '\n';
}

/** Depth-first order with tree connectors; a stack instead of recursion, as traces may be deep. */
function treeRows(tree: TraceTree, continues: PrintedTrace | undefined): Row[] {
  // Spans whose parent was printed before hang under one line naming that parent.
  const tops: Array<ReadableSpan | PrintedParent> = [];
  const printedParents = new Map<string, PrintedParent>();
  for (const span of tree.roots) {
    const parentName = span.parentSpanId === undefined ? undefined : continues?.names.get(span.parentSpanId);
    if (parentName === undefined) {
      tops.push(span);
      continue;
    }
    let parent = printedParents.get(span.parentSpanId!);
    if (parent === undefined) {
      parent = { name: parentName, startTime: span.startTime, kids: [] };
      printedParents.set(span.parentSpanId!, parent);
      tops.push(parent);
    }
    parent.kids.push(span);
  }

  const rows: Row[] = [];
  const visited = new Set<ReadableSpan | PrintedParent>();
  // Each entry: a node, the connector for its own line, and the prefix its children continue.
  const stack: Array<[ReadableSpan | PrintedParent, string, string]> = [];
  const push = (list: ReadonlyArray<ReadableSpan | PrintedParent>, prefix: string, connect: boolean) => {
    for (let i = list.length - 1; i >= 0; i--) {
      const last = i === list.length - 1;
      const branch = connect ? prefix + (last ? '└─ ' : '├─ ') : '';
      const childPrefix = connect ? prefix + (last ? '   ' : '│  ') : '';
      stack.push([list[i]!, branch, childPrefix]);
    }
  };
  const walk = () => {
    for (let entry = stack.pop(); entry; entry = stack.pop()) {
      const [node, branch, childPrefix] = entry;
      if (visited.has(node)) continue;
      visited.add(node);
      if ('kids' in node) {
        rows.push({ node, branch, orphan: false });
        push(node.kids, childPrefix, true);
        continue;
      }
      const orphan = branch === '' && !!node.parentSpanId && !node.parentIsRemote;
      rows.push({ node, branch, orphan });
      const kids = tree.children.get(node.spanContext().spanId);
      if (kids) push(kids, childPrefix, true);
    }
  };
  push(tops, '', false);
  walk();
  // Spans in a parent cycle are reachable from no root: print them rather than lose them.
  for (const list of tree.children.values()) {
    for (const span of list) {
      if (!visited.has(span)) {
        push([span], '', false);
        walk();
      }
    }
  }
  return rows;
}

function renderRow(row: Row, nameColumn: number, traceStart: number, extent: number, palette: Palette): string {
  const { node, branch } = row;
  const room = Math.max(4, nameColumn - branch.length);
  if ('kids' in node) return (branch ? palette.dim(branch) : '') + truncate(clean(node.name), room) + palette.dim('  (printed above)');
  const span = node;
  const name = truncate(clean(span.name), room).padEnd(room);
  const kind = (KIND_NAMES[span.kind] ?? 'unknown').padEnd(8);
  const duration = formatDuration(span.endTime - span.startTime).padStart(10);
  const failed = span.status.code === 2;
  const bar = waterfallBar(span.startTime - traceStart, span.endTime - traceStart, extent);
  let line = (branch ? palette.dim(branch) : '') + name + '  ' + palette.dim(kind) + duration;
  line += '  [' + (failed ? palette.red(bar) : palette.cyan(bar)) + ']';
  const attributes = span.attributes;
  // A server line shows what was asked for, so traces of one route-less handler can be told apart.
  if (span.kind === SpanKind.SERVER) {
    const path = attributes[ATTR_URL_PATH] ?? (span.name.includes(' ') ? undefined : attributes[ATTR_HTTP_ROUTE]);
    if (path !== undefined && path !== null) line += '  ' + truncate(clean(formatValue(path)), MAX_VALUE_LENGTH);
  }
  if (failed) {
    const message = span.status.message ? `: ${truncate(clean(span.status.message), MAX_VALUE_LENGTH)}` : '';
    line += '  ' + palette.red(palette.bold('✖ ERROR') + message);
  } else if (span.status.code === 1) {
    line += '  ' + palette.green('OK');
  }
  for (const key of KEY_ATTRIBUTES) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    line += '  ' + palette.dim(key + '=') + truncate(clean(formatValue(value)), MAX_VALUE_LENGTH);
  }
  if (row.orphan) line += palette.dim(`  (parent span ${span.parentSpanId} not seen)`);
  return line;
}

/** BAR_WIDTH columns: blank before the span starts, full blocks while it runs (at least one). */
function waterfallBar(offset: number, endOffset: number, extent: number): string {
  const scale = extent > 0 ? BAR_WIDTH / extent : 0;
  const from = Math.min(BAR_WIDTH - 1, Math.max(0, Math.floor(offset * scale)));
  const to = Math.min(BAR_WIDTH, Math.max(from + 1, Math.ceil(endOffset * scale)));
  return ' '.repeat(from) + '█'.repeat(to - from) + ' '.repeat(BAR_WIDTH - to);
}

function formatValue(value: unknown): string {
  return Array.isArray(value) ? `[${value.map((item) => String(item)).join(',')}]` : String(value);
}
