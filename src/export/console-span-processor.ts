import { writeSync } from 'node:fs';
import { agentContext } from '../api/active';
import { ROOT_CONTEXT } from '../api/context';
import { TRACE_FLAG_SAMPLED } from '../api/trace';
import { suppressTracing } from '../trace/suppress';
import type { ReadableSpan, Resource } from '../trace/types';
import type { SpanProcessor } from './types';

/**
 * OTEL_TRACES_EXPORTER=console: each trace printed as a tree on stdout, for a person reading a
 * terminal. It is a span processor of its own rather than an encoder and an exporter: it sends
 * no bytes anywhere, it waits for whole traces, and it prints each span as soon as its trace is
 * complete, without the batch delay.
 */
export class ConsoleSpanProcessor implements SpanProcessor {
  private closed = false;

  constructor(private readonly printer: ConsoleTreePrinter) {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TRACE_FLAG_SAMPLED) === 0) return;
    // Writing to stdout must not be traced by the application's own instrumentations.
    agentContext.with(PRINT_CONTEXT, this.printer.print, this.printer, [span]);
  }

  hasPendingSpans(): boolean {
    return false;
  }

  async forceFlush(): Promise<void> {}

  flushAtExit(timeoutMs: number): void {
    this.printer.printAtExit([], timeoutMs);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    this.printer.close();
  }
}

const PRINT_CONTEXT = suppressTracing(ROOT_CONTEXT);

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

export interface ConsoleExporterLimits {
  /** How long spans wait for their trace's local root before being printed without it. */
  readonly maxWaitMs?: number;
  /**
   * How long a trace whose local root has a remote parent waits for more of itself: that parent
   * may be a span of this very process, calling itself over HTTP, which ends after its callee.
   */
  readonly settleMs?: number;
  /** Traces held back at once; past this the oldest is printed as it is. */
  readonly maxPendingTraces?: number;
  /** Spans held back at once, all traces together. */
  readonly maxPendingSpans?: number;
}

const DEFAULT_MAX_WAIT_MS = 10_000;
const DEFAULT_SETTLE_MS = 250;
const DEFAULT_MAX_PENDING_TRACES = 1_000;
const DEFAULT_MAX_PENDING_SPANS = 10_000;
/** Trace ids remembered after printing, so later spans of the trace are printed without waiting. */
const MAX_REMEMBERED_TRACES = 1_000;
const BAR_WIDTH = 30;
const MAX_NAME_COLUMN = 60;
const MAX_VALUE_LENGTH = 80;
const KIND_NAMES = ['internal', 'server', 'client', 'producer', 'consumer'];

interface PendingTrace {
  readonly spans: ReadableSpan[];
  readonly since: number;
  /** Spans of a trace printed before: they are printed at once, as a fragment. */
  readonly late: boolean;
  readyToPrint: boolean;
  /** Set when a local root with a remote parent arrived: print then, unless the real root comes first. */
  settlesAt: number | undefined;
}

interface Palette {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
  readonly cyan: (text: string) => string;
}

const ansi = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const COLORS: Palette = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), cyan: ansi(36, 39) };
const plain = (text: string): string => text;
const NO_COLORS: Palette = { bold: plain, dim: plain, red: plain, green: plain, cyan: plain };

/**
 * Prints each trace as a tree with a waterfall bar per span, for a person reading a terminal.
 * Children usually end (and arrive) before their parent, so spans wait per trace until the trace's
 * local root ends; what waits too long, overflows the limits or is left at shutdown is printed as is.
 */
export class ConsoleTreePrinter {
  private readonly pending = new Map<string, PendingTrace>();
  private pendingSpanCount = 0;
  private readonly printedTraces = new Set<string>();
  private readonly palette: Palette;
  private readonly maxWaitMs: number;
  private readonly settleMs: number;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly maxPendingTraces: number;
  private readonly maxPendingSpans: number;
  private isShutDown = false;

  constructor(
    private readonly resource: Resource,
    private readonly write?: (text: string) => void,
    limits: ConsoleExporterLimits = {},
  ) {
    const toTerminal = write === undefined && process.stdout.isTTY === true;
    this.palette = toTerminal && !process.env.NO_COLOR ? COLORS : NO_COLORS;
    this.maxWaitMs = limits.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.settleMs = limits.settleMs ?? DEFAULT_SETTLE_MS;
    this.maxPendingTraces = Math.max(1, limits.maxPendingTraces ?? DEFAULT_MAX_PENDING_TRACES);
    this.maxPendingSpans = Math.max(1, limits.maxPendingSpans ?? DEFAULT_MAX_PENDING_SPANS);
  }

  /** Takes ended spans and prints the traces now complete. False once closed, or if stdout failed. */
  print(spans: readonly ReadableSpan[]): boolean {
    if (this.isShutDown) return false;
    try {
      this.output(this.accept(spans, Date.now()));
      return true;
    } catch {
      return false;
    }
  }

  /** At the process 'exit': prints everything, synchronously. */
  printAtExit(spans: readonly ReadableSpan[], timeoutMs: number): void {
    try {
      const text = this.accept(spans, Date.now()) + this.printAll();
      if (text === '') return;
      if (this.write) this.write(text);
      else writeStdoutSync(text, Date.now() + timeoutMs);
    } catch {
      // The process is exiting: nothing left to tell.
    }
  }

  /** Prints what is left, as it is, and takes no more spans. */
  close(): void {
    if (this.isShutDown) return;
    this.isShutDown = true;
    try {
      this.output(this.printAll());
    } catch {
      // Closing must not fail because stdout did.
    }
  }

  /** Buffers spans and returns the text of every trace now due to be printed. */
  private accept(spans: readonly ReadableSpan[], now: number): string {
    let text = '';
    let ready: string[] | undefined;
    for (const span of spans) {
      const traceId = span.spanContext().traceId;
      let trace = this.pending.get(traceId);
      if (trace === undefined) {
        trace = { spans: [], since: now, late: this.printedTraces.has(traceId), readyToPrint: false, settlesAt: undefined };
        this.pending.set(traceId, trace);
      }
      trace.spans.push(span);
      this.pendingSpanCount++;
      if (trace.readyToPrint) continue;
      if (trace.late || !span.parentSpanId) {
        trace.readyToPrint = true;
        (ready ??= []).push(traceId);
      } else if (span.parentIsRemote && trace.settlesAt === undefined) {
        trace.settlesAt = now + this.settleMs;
        this.scheduleSettle();
      }
    }
    if (ready) for (const traceId of ready) text += this.takeTrace(traceId);
    for (const [traceId, trace] of this.pending) {
      if (trace.settlesAt !== undefined && trace.settlesAt <= now) {
        trace.readyToPrint = true;
        text += this.takeTrace(traceId);
      }
    }

    // Map order is arrival order: the oldest traces come first.
    for (const [traceId, trace] of this.pending) {
      const overLimit = this.pending.size > this.maxPendingTraces || this.pendingSpanCount > this.maxPendingSpans;
      if (!overLimit && now - trace.since < this.maxWaitMs) break;
      text += this.takeTrace(traceId);
    }
    return text;
  }

  /** One timer, never keeping the process alive, prints traces whose settle time has come. */
  private scheduleSettle(): void {
    if (this.settleTimer !== undefined) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      try {
        this.output(this.accept([], Date.now()));
      } catch {
        // stdout failed: nothing to do about it here
      }
      if ([...this.pending.values()].some((trace) => trace.settlesAt !== undefined)) this.scheduleSettle();
    }, this.settleMs);
    this.settleTimer.unref();
  }

  private printAll(): string {
    let text = '';
    for (const traceId of this.pending.keys()) text += this.takeTrace(traceId);
    return text;
  }

  /** Removes a trace from the buffer and renders it. */
  private takeTrace(traceId: string): string {
    const trace = this.pending.get(traceId);
    if (trace === undefined) return '';
    this.pending.delete(traceId);
    this.pendingSpanCount -= trace.spans.length;
    this.printedTraces.delete(traceId);
    this.printedTraces.add(traceId);
    if (this.printedTraces.size > MAX_REMEMBERED_TRACES) {
      this.printedTraces.delete(this.printedTraces.values().next().value!);
    }
    const note = trace.late ? 'more spans of a trace printed before' : trace.readyToPrint ? '' : 'root span not seen';
    return renderTrace(traceId, trace.spans, serviceName(this.resource), note, this.palette);
  }

  private output(text: string): void {
    if (text === '') return;
    if (this.write) this.write(text);
    else process.stdout.write(text);
  }
}

function serviceName(resource: Resource): string {
  const name = resource.attributes['service.name'];
  return name === undefined ? 'unknown service' : String(name);
}

interface Row {
  readonly span: ReadableSpan;
  /** Tree connectors before the name. */
  readonly branch: string;
  /** The span's parent is neither in this tree nor remote. */
  readonly orphan: boolean;
}

/** A header line and one line per span, children under their parent in start-time order. */
function renderTrace(traceId: string, spans: readonly ReadableSpan[], service: string, note: string, palette: Palette): string {
  let start = Infinity;
  let end = -Infinity;
  for (const span of spans) {
    start = Math.min(start, span.startTime);
    end = Math.max(end, span.endTime);
  }
  const rows = treeRows(spans);
  let nameColumn = 0;
  for (const row of rows) nameColumn = Math.max(nameColumn, row.branch.length + clean(row.span.name).length);
  nameColumn = Math.min(nameColumn, MAX_NAME_COLUMN);

  const count = spans.length === 1 ? '1 span' : `${spans.length} spans`;
  let text = palette.bold(`trace ${traceId}`) + `  service ${clean(service)}  ${formatDuration(end - start)}  ${count}`;
  if (note) text += palette.dim(`  (${note})`);
  text += '\n';
  for (const row of rows) text += renderRow(row, nameColumn, start, end - start, palette) + '\n';
  return text + '\n';
}

/** Depth-first order with tree connectors; a stack instead of recursion, as traces may be deep. */
function treeRows(spans: readonly ReadableSpan[]): Row[] {
  const ids = new Set<string>();
  for (const span of spans) ids.add(span.spanContext().spanId);
  const children = new Map<string, ReadableSpan[]>();
  const roots: ReadableSpan[] = [];
  for (const span of spans) {
    const parent = span.parentSpanId;
    if (parent && ids.has(parent) && parent !== span.spanContext().spanId) {
      const siblings = children.get(parent);
      if (siblings) siblings.push(span);
      else children.set(parent, [span]);
    } else {
      roots.push(span);
    }
  }

  const rows: Row[] = [];
  const visited = new Set<ReadableSpan>();
  // Each entry: a span, the connector for its own line, and the prefix its children continue.
  const stack: Array<[ReadableSpan, string, string]> = [];
  const pushSorted = (list: ReadableSpan[], prefix: string, connect: boolean) => {
    list.sort(byStartTime);
    for (let i = list.length - 1; i >= 0; i--) {
      const last = i === list.length - 1;
      const branch = connect ? prefix + (last ? '└─ ' : '├─ ') : '';
      const childPrefix = connect ? prefix + (last ? '   ' : '│  ') : '';
      stack.push([list[i]!, branch, childPrefix]);
    }
  };
  const walk = () => {
    for (let entry = stack.pop(); entry; entry = stack.pop()) {
      const [span, branch, childPrefix] = entry;
      if (visited.has(span)) continue;
      visited.add(span);
      const orphan = branch === '' && !!span.parentSpanId && !span.parentIsRemote;
      rows.push({ span, branch, orphan });
      const kids = children.get(span.spanContext().spanId);
      if (kids) pushSorted(kids, childPrefix, true);
    }
  };
  pushSorted(roots, '', false);
  walk();
  // Spans in a parent cycle are reachable from no root: print them rather than lose them.
  for (const span of spans) {
    if (!visited.has(span)) {
      pushSorted([span], '', false);
      walk();
    }
  }
  return rows;
}

function byStartTime(a: ReadableSpan, b: ReadableSpan): number {
  return a.startTime - b.startTime;
}

function renderRow(row: Row, nameColumn: number, traceStart: number, extent: number, palette: Palette): string {
  const { span, branch } = row;
  const room = Math.max(4, nameColumn - branch.length);
  const name = truncate(clean(span.name), room).padEnd(room);
  const kind = (KIND_NAMES[span.kind] ?? 'unknown').padEnd(8);
  const duration = formatDuration(span.endTime - span.startTime).padStart(10);
  const failed = span.status.code === 2;
  const bar = waterfallBar(span.startTime - traceStart, span.endTime - traceStart, extent);
  let line = (branch ? palette.dim(branch) : '') + name + '  ' + palette.dim(kind) + duration;
  line += '  [' + (failed ? palette.red(bar) : palette.cyan(bar)) + ']';
  if (failed) {
    const message = span.status.message ? `: ${truncate(clean(span.status.message), MAX_VALUE_LENGTH)}` : '';
    line += '  ' + palette.red(palette.bold('✖ ERROR') + message);
  } else if (span.status.code === 1) {
    line += '  ' + palette.green('OK');
  }
  for (const key of KEY_ATTRIBUTES) {
    const value = span.attributes[key];
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

/** About four significant digits: 0.123 ms, 4.56 ms, 78.9 ms, 1234 ms. */
function formatDuration(ms: number): string {
  const value = Math.max(0, ms);
  const digits = value < 1 ? 3 : value < 10 ? 2 : value < 1000 ? 1 : 0;
  return `${value.toFixed(digits)} ms`;
}

function formatValue(value: unknown): string {
  return Array.isArray(value) ? `[${value.map((item) => String(item)).join(',')}]` : String(value);
}

/** Control characters would break the layout (or drive the terminal): show them as spaces. */
function clean(text: unknown): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** Blocking write for the 'exit' event, retrying a full pipe until the deadline. */
function writeStdoutSync(text: string, deadline: number): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN' || Date.now() > deadline) return;
    }
  }
}
