import { writeSync } from 'node:fs';
import { agentContext } from '../api/active';
import { ROOT_CONTEXT } from '../api/context';
import { TRACE_FLAG_SAMPLED } from '../api/trace';
import { suppressTracing } from '../trace/suppress';
import type { ReadableSpan, Resource } from '../trace/types';
import { DEFAULT_THRESHOLDS, type InsightThresholds } from './console-insights';
import { COLORS, NO_COLORS, renderTrace, type Palette, type PrintedTrace } from './console-render';
import { isLocalRoot } from './console-tree';
import type { SpanProcessor } from './types';

/**
 * OTEL_TRACES_EXPORTER=console: each trace printed as a tree on stdout, for a person reading a
 * terminal. It is a span processor of its own rather than an encoder and an exporter: it sends
 * no bytes anywhere, it waits for whole traces, and it prints each trace shortly after its root
 * ends, without the batch delay. A flush (the exit handlers call it on SIGTERM, SIGINT and when
 * the event loop runs dry) prints everything held back, so that nothing finished is lost.
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
    return this.printer.hasPending();
  }

  forceFlush(): Promise<void> {
    return agentContext.with(PRINT_CONTEXT, this.printer.flush, this.printer);
  }

  flushAtExit(timeoutMs: number): void {
    this.printer.printAtExit([], timeoutMs);
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    this.printer.close();
  }
}

const PRINT_CONTEXT = suppressTracing(ROOT_CONTEXT);

export interface ConsoleExporterLimits {
  /** How long spans wait for their trace's local root before being printed without it. */
  readonly maxWaitMs?: number;
  /**
   * How long a trace waits after its local root ended before it is printed: for spans that end
   * later (a child outliving its root: work finished after the response was sent) and, when the
   * root has a remote parent, for that parent, which may be a span of this very process calling
   * itself over HTTP and ending after its callee. 0 prints at once.
   */
  readonly settleMs?: number;
  /** Traces held back at once; past this the oldest is printed as it is. */
  readonly maxPendingTraces?: number;
  /** Spans held back at once, all traces together. */
  readonly maxPendingSpans?: number;
  /** When the insights under a tree speak up. */
  readonly insights?: Partial<InsightThresholds>;
}

const DEFAULT_MAX_WAIT_MS = 10_000;
/**
 * Long enough for the usual child that outlives its root (a response body read, a log write, a
 * fire-and-forget call: a few to tens of milliseconds) and an in-process caller, short enough
 * that a person does not notice the wait. Spans later than this still join their trace, as a
 * continuation printed under the same trace id, hung under their parent's name.
 */
const DEFAULT_SETTLE_MS = 250;
const DEFAULT_MAX_PENDING_TRACES = 1_000;
const DEFAULT_MAX_PENDING_SPANS = 10_000;
/** Printed traces remembered (their span names), so later spans of theirs can be shown under them. */
const MAX_REMEMBERED_TRACES = 1_000;
const MAX_REMEMBERED_SPANS = 20_000;

interface PendingTrace {
  readonly spans: ReadableSpan[];
  readonly since: number;
  /** When to print it: set once a local root has ended (or, for a continuation, its first span). */
  dueAt: number | undefined;
  /** The trace was printed before: these spans are shown as its continuation. */
  readonly continues: PrintedTrace | undefined;
}

/**
 * Prints each trace as a tree with a waterfall bar per span, for a person reading a terminal.
 * Children usually end (and arrive) before their parent, so spans wait per trace until the trace's
 * local root has ended and settleMs has passed; what waits too long, overflows the limits or is
 * left at a flush, exit or shutdown is printed as it is.
 */
export class ConsoleTreePrinter {
  private readonly pending = new Map<string, PendingTrace>();
  private pendingSpanCount = 0;
  /** Map order is print order: the least recently printed first. */
  private readonly printed = new Map<string, PrintedTrace>();
  private rememberedSpanCount = 0;
  private readonly palette: Palette;
  private readonly maxWaitMs: number;
  private readonly settleMs: number;
  private readonly maxPendingTraces: number;
  private readonly maxPendingSpans: number;
  private readonly thresholds: InsightThresholds;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private isShutDown = false;

  constructor(
    private readonly resource: Resource,
    private readonly write?: (text: string) => void,
    limits: ConsoleExporterLimits = {},
  ) {
    const toTerminal = write === undefined && process.stdout.isTTY === true;
    this.palette = toTerminal && !process.env.NO_COLOR ? COLORS : NO_COLORS;
    this.maxWaitMs = limits.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.settleMs = Math.max(0, limits.settleMs ?? DEFAULT_SETTLE_MS);
    this.maxPendingTraces = Math.max(1, limits.maxPendingTraces ?? DEFAULT_MAX_PENDING_TRACES);
    this.maxPendingSpans = Math.max(1, limits.maxPendingSpans ?? DEFAULT_MAX_PENDING_SPANS);
    this.thresholds = { ...DEFAULT_THRESHOLDS, ...limits.insights };
  }

  /** Takes ended spans and prints the traces now due. False once closed, or if stdout failed. */
  print(spans: readonly ReadableSpan[]): boolean {
    if (this.isShutDown) return false;
    try {
      this.output(this.accept(spans, Date.now()));
      return true;
    } catch {
      return false;
    }
  }

  /** True while spans are held back. */
  hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** Prints everything held back now, and resolves once stdout took it. */
  flush(): Promise<void> {
    if (this.isShutDown) return Promise.resolve();
    let text: string;
    try {
      text = this.printAll();
    } catch {
      return Promise.resolve();
    }
    if (text === '') return Promise.resolve();
    if (this.write) {
      try {
        this.write(text);
      } catch {
        // stdout failed: nothing to do about it here
      }
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      try {
        process.stdout.write(text, () => resolve());
      } catch {
        resolve();
      }
    });
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
    if (this.timer !== undefined) clearTimeout(this.timer);
    try {
      this.output(this.printAll());
    } catch {
      // Closing must not fail because stdout did.
    }
  }

  /** Buffers spans and returns the text of every trace now due to be printed. */
  private accept(spans: readonly ReadableSpan[], now: number): string {
    let text = '';
    let due: string[] | undefined;
    for (const span of spans) {
      const traceId = span.spanContext().traceId;
      let trace = this.pending.get(traceId);
      if (trace === undefined) {
        trace = { spans: [], since: now, dueAt: undefined, continues: this.printed.get(traceId) };
        this.pending.set(traceId, trace);
      }
      trace.spans.push(span);
      this.pendingSpanCount++;
      // Late spans of a printed trace are gathered for a moment, then shown under what they continue.
      if (trace.continues ? trace.dueAt === undefined : isLocalRoot(span)) {
        trace.dueAt = now + this.settleMs;
        if (this.settleMs === 0) (due ??= []).push(traceId);
        else this.schedule(trace.dueAt);
      }
    }
    if (due) for (const traceId of due) text += this.takeTrace(traceId);

    // Map order is arrival order: the oldest traces come first.
    for (const [traceId, trace] of this.pending) {
      const overLimit = this.pending.size > this.maxPendingTraces || this.pendingSpanCount > this.maxPendingSpans;
      if (!overLimit && now - trace.since < this.maxWaitMs) break;
      text += this.takeTrace(traceId);
    }
    return text;
  }

  /** One timer, never keeping the process alive, for the earliest trace due. */
  private schedule(dueAt: number): void {
    if (this.timer !== undefined && this.timerAt <= dueAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = dueAt;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, dueAt - Date.now()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.isShutDown) return;
    try {
      const now = Date.now();
      let text = '';
      let next = Infinity;
      for (const [traceId, trace] of this.pending) {
        if (trace.dueAt === undefined) continue;
        // A timer may fire within the millisecond before its time.
        if (trace.dueAt <= now + 1) text += this.takeTrace(traceId);
        else next = Math.min(next, trace.dueAt);
      }
      text += this.accept([], now);
      if (next !== Infinity) this.schedule(next);
      this.output(text);
    } catch {
      // stdout failed: nothing to do about it here
    }
  }

  private printAll(): string {
    let text = '';
    for (const traceId of this.pending.keys()) text += this.takeTrace(traceId);
    return text;
  }

  /** Removes a trace from the buffer, remembers what it printed, and renders it. */
  private takeTrace(traceId: string): string {
    const trace = this.pending.get(traceId);
    if (trace === undefined) return '';
    this.pending.delete(traceId);
    this.pendingSpanCount -= trace.spans.length;
    const text = renderTrace(traceId, trace.spans, {
      service: serviceName(this.resource),
      palette: this.palette,
      continues: trace.continues,
      thresholds: this.thresholds,
    });
    this.remember(traceId, trace);
    return text;
  }

  private remember(traceId: string, trace: PendingTrace): void {
    let printed = this.printed.get(traceId);
    if (printed === undefined) {
      printed = { start: Infinity, end: -Infinity, names: new Map() };
    } else {
      this.printed.delete(traceId);
      this.rememberedSpanCount -= printed.names.size;
    }
    this.printed.set(traceId, printed);
    for (const span of trace.spans) {
      printed.names.set(span.spanContext().spanId, span.name);
      printed.start = Math.min(printed.start, span.startTime);
      printed.end = Math.max(printed.end, span.endTime);
    }
    this.rememberedSpanCount += printed.names.size;
    while (this.printed.size > MAX_REMEMBERED_TRACES || (this.rememberedSpanCount > MAX_REMEMBERED_SPANS && this.printed.size > 1)) {
      const [oldest, forgotten] = this.printed.entries().next().value!;
      this.printed.delete(oldest);
      this.rememberedSpanCount -= forgotten.names.size;
    }
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
