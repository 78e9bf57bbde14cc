import { SpanKind } from '@opentelemetry/api';
import type { Attributes, SpanStatus } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleSpanProcessor, ConsoleTreePrinter, type ConsoleExporterLimits } from '../../../src/export/console-span-processor';
import type { ReadableSpan, Resource } from '../../../src/trace/types';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const OTHER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const RESOURCE: Resource = { attributes: { 'service.name': 'checkout' } };
const T0 = 1700000000000;

interface SpanInit {
  id: string;
  parent?: string;
  name?: string;
  kind?: SpanKind;
  start?: number;
  end?: number;
  traceId?: string;
  remoteParent?: boolean;
  attributes?: Attributes;
  status?: SpanStatus;
}

function makeSpan(init: SpanInit): ReadableSpan {
  const context = { traceId: init.traceId ?? TRACE_ID, spanId: init.id.padStart(16, '0'), traceFlags: 1 };
  return {
    name: init.name ?? init.id,
    kind: init.kind ?? SpanKind.INTERNAL,
    spanContext: () => context,
    parentSpanId: init.parent?.padStart(16, '0'),
    parentIsRemote: init.remoteParent ?? false,
    startTime: T0 + (init.start ?? 0),
    endTime: T0 + (init.end ?? 100),
    attributes: init.attributes ?? {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: init.status ?? { code: 0 },
    scope: { name: 'test' },
  };
}

/** A printer writing to an array; by default it prints a trace as soon as its root ends (settleMs 0). */
function capture(limits: ConsoleExporterLimits = {}) {
  const writes: string[] = [];
  const exporter = new ConsoleTreePrinter(RESOURCE, (text) => writes.push(text), { settleMs: 0, ...limits });
  return { exporter, writes, output: () => writes.join('') };
}

/** Span lines of printed traces, without the headers, the insights and the blank lines, nor the critical path column. */
function spanLines(text: string): string[] {
  const lines: string[] = [];
  for (const block of text.split('\n\n')) {
    const rows = block.split('\n').filter((line) => line !== '' && !line.startsWith('trace '));
    const end = rows.findIndex((line) => /^ *insights:$/.test(line));
    const spans = end === -1 ? rows : rows.slice(0, end);
    const marked = spans.some((line) => line.startsWith('◆ '));
    lines.push(...spans.map((line) => (marked ? line.slice(2) : line)));
  }
  return lines;
}

/** The insight lines under printed traces. */
function insightLines(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => /^ *insights:$/.test(line));
  if (start === -1) return [];
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end).map((line) => line.trim());
}

function lineOf(text: string, name: string): string {
  const line = spanLines(text).find((candidate) => candidate.replace(/^[│├└─ ]*/, '').startsWith(name + ' '));
  if (line === undefined) throw new Error(`no line for ${name} in:\n${text}`);
  return line;
}

/** The tree part of each span line: connectors and name. */
function treeOf(text: string): string[] {
  return spanLines(text).map((line) => line.split(/(?<=\S)\s{2,}/)[0]!);
}

/** The 30 columns between the brackets. */
function barOf(line: string): string {
  const match = /\[([ █]{30})\]/.exec(line);
  if (!match) throw new Error(`no bar in: ${line}`);
  return match[1]!;
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('ConsoleTreePrinter', () => {
  it('prints a trace as a tree once its root ends, children under parents in start order', async () => {
    const { exporter, writes, output } = capture();
    // Children end first and arrive in separate exports, out of start order.
    exporter.print([makeSpan({ id: 'b1', parent: 'b', start: 60, end: 70 })]);
    exporter.print([makeSpan({ id: 'b', parent: 'root', start: 55, end: 95 })]);
    exporter.print([makeSpan({ id: 'a1', parent: 'a', start: 12, end: 20 }), makeSpan({ id: 'a', parent: 'root', start: 10, end: 50 })]);
    expect(writes).toEqual([]);
    exporter.print([makeSpan({ id: 'root', name: 'GET /orders', kind: SpanKind.SERVER, start: 0, end: 100 })]);

    expect(writes).toHaveLength(1);
    const text = output();
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^trace 0af7651916cd43dd8448eb211c80319c {2}service checkout {2}100\.0 ms {2}5 spans$/);
    const tree = spanLines(text).map((line) => /^[│├└─ ]*\S+/.exec(line)![0]);
    expect(tree).toEqual(['GET', '├─ a', '│  └─ a1', '└─ b', '   └─ b1']);
    expect(lineOf(text, 'GET /orders')).toContain('server');
    expect(lineOf(text, 'a')).toContain('40.0 ms');
    expect(lineOf(text, 'a1')).toContain('8.00 ms');
  });

  it('places each bar at the span’s offset within the trace', async () => {
    const { exporter, output } = capture();
    exporter.print([
      makeSpan({ id: 'half', parent: 'root', start: 50, end: 100 }),
      makeSpan({ id: 'early', parent: 'root', start: 0, end: 10 }),
      makeSpan({ id: 'instant', parent: 'root', start: 80, end: 80 }),
      makeSpan({ id: 'root', start: 0, end: 100 }),
    ]);
    const text = output();
    expect(barOf(lineOf(text, 'root'))).toBe('█'.repeat(30));
    expect(barOf(lineOf(text, 'half'))).toBe(' '.repeat(15) + '█'.repeat(15));
    expect(barOf(lineOf(text, 'early'))).toBe('█'.repeat(3) + ' '.repeat(27));
    expect(barOf(lineOf(text, 'instant'))).toBe(' '.repeat(24) + '█' + ' '.repeat(5)); // at least one column
  });

  it('marks errors with their message and shows key attributes', async () => {
    const { exporter, output } = capture();
    exporter.print([
      makeSpan({
        id: 'pay',
        parent: 'root',
        name: 'POST',
        kind: SpanKind.CLIENT,
        status: { code: 2, message: 'card declined' },
        attributes: {
          'http.request.method': 'POST',
          'url.full': 'https://payments.example.com/charge',
          'http.response.status_code': 402,
          'error.type': '402',
          'user.secret': 'not shown',
        },
      }),
      makeSpan({
        id: 'db',
        parent: 'root',
        kind: SpanKind.CLIENT,
        status: { code: 1 },
        attributes: { 'db.system.name': 'postgresql', 'db.query.summary': 'SELECT orders', 'db.namespace': 'shop' },
      }),
      makeSpan({ id: 'root', kind: SpanKind.SERVER }),
    ]);
    const text = output();
    const pay = lineOf(text, 'POST');
    expect(pay).toContain('client');
    expect(pay).toContain('✖ ERROR: card declined');
    expect(pay).toContain('http.request.method=POST');
    expect(pay).toContain('url.full=https://payments.example.com/charge');
    expect(pay).toContain('http.response.status_code=402');
    expect(pay).toContain('error.type=402');
    expect(pay).not.toContain('user.secret');
    const db = lineOf(text, 'db');
    expect(db).not.toContain('ERROR');
    expect(db).toContain('OK');
    expect(db).toContain('db.system.name=postgresql');
    expect(db).toContain('db.query.summary=SELECT orders');
    expect(db).toContain('db.namespace=shop');
    expect(lineOf(text, 'root')).not.toContain('ERROR');
  });

  it('prints a span whose parent is remote as the root of its trace once the trace settled', async () => {
    const { exporter, output } = capture({ settleMs: 30 });
    exporter.print([makeSpan({ id: 'child', parent: 'server' })]);
    exporter.print([makeSpan({ id: 'server', parent: 'upstream', remoteParent: true })]);
    expect(output()).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(spanLines(output()).map((line) => line.split(/\s{2,}/)[0])).toEqual(['server', '└─ child']);
  });

  it('joins a server span to the client span of the same process that called it over HTTP', async () => {
    const { exporter, writes } = capture({ settleMs: 30 });
    exporter.print([makeSpan({ id: 'server', parent: 'client', remoteParent: true, start: 20, end: 60 })]);
    exporter.print([makeSpan({ id: 'client', parent: 'root', start: 10, end: 80, kind: SpanKind.CLIENT })]);
    exporter.print([makeSpan({ id: 'root', end: 100 })]);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(writes).toHaveLength(1);
    expect(treeOf(writes[0]!)).toEqual(['root', '└─ client', '   └─ server']);
  });

  it('waits settleMs after the root ends for children that outlive it, and prints one tree', async () => {
    const { exporter, writes } = capture({ settleMs: 40 });
    const printedAt: number[] = [];
    const started = Date.now();
    exporter.print([makeSpan({ id: 'root', name: 'GET', kind: SpanKind.SERVER, end: 10 })]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    exporter.print([makeSpan({ id: 'email', parent: 'root', start: 5, end: 30 })]);
    expect(writes).toEqual([]);
    while (writes.length === 0 && Date.now() - started < 1_000) await new Promise((resolve) => setTimeout(resolve, 5));
    printedAt.push(Date.now() - started);
    expect(printedAt[0]).toBeGreaterThanOrEqual(39);
    expect(printedAt[0]).toBeLessThan(200); // the root's window, not one restarted by the late child
    expect(writes).toHaveLength(1);
    expect(treeOf(writes[0]!)).toEqual(['GET', '└─ email']);
    expect(writes[0]).not.toContain('not seen');
  });

  it('prints spans that end after their trace was printed under the same trace id, hung under their printed parent', async () => {
    const { exporter, writes } = capture();
    exporter.print([makeSpan({ id: 'child', parent: 'root', start: 10, end: 20 }), makeSpan({ id: 'root', name: 'GET /users/:id', end: 100 })]);
    exporter.print([makeSpan({ id: 'late', parent: 'root', start: 50, end: 150 })]);
    exporter.print([
      makeSpan({ id: 'later', parent: 'late', start: 140, end: 200 }),
      makeSpan({ id: 'sibling', parent: 'child', start: 15, end: 210 }),
    ]);
    expect(writes).toHaveLength(3);
    expect(writes[1]).toMatch(
      new RegExp(
        `^trace ${TRACE_ID} {2}service checkout {2}100\\.0 ms {2}1 span {2}\\(continued: a span that ended after the trace was printed above\\)\\n`,
      ),
    );
    expect(treeOf(writes[1]!)).toEqual(['GET /users/:id', '└─ late']);
    expect(lineOf(writes[1]!, 'GET /users/:id')).toBe('GET /users/:id  (printed above)');
    // The bars keep the first part's scale: 'late' starts at a third of the 0..150 ms extent.
    expect(barOf(lineOf(writes[1]!, 'late'))).toBe(' '.repeat(10) + '█'.repeat(20));
    expect(treeOf(writes[2]!)).toEqual(['child', '└─ sibling', 'late', '└─ later']);
    expect(writes.join('')).not.toContain('not seen');
    expect(writes.join('')).not.toContain('root span not seen');
  });

  it('keeps traces apart', async () => {
    const { exporter, writes } = capture();
    exporter.print([makeSpan({ id: 'a1', parent: 'a' }), makeSpan({ id: 'b1', parent: 'b', traceId: OTHER_TRACE_ID }), makeSpan({ id: 'a' })]);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain(TRACE_ID);
    expect(writes[0]).not.toContain('b1');
    exporter.print([makeSpan({ id: 'b', traceId: OTHER_TRACE_ID })]);
    expect(writes).toHaveLength(2);
    expect(spanLines(writes[1]!).map((line) => line.split(/\s{2,}/)[0])).toEqual(['b', '└─ b1']);
  });

  it('prints orphan spans at shutdown', async () => {
    const { exporter, writes, output } = capture();
    exporter.print([makeSpan({ id: 'orphan', parent: 'missing' })]);
    expect(writes).toEqual([]);
    exporter.close();
    expect(output()).toContain('root span not seen');
    expect(lineOf(output(), 'orphan')).toContain('(parent span 000000000missing not seen)');
    const result = exporter.print([makeSpan({ id: 'after' })]);
    expect(result).toBe(false);
  });

  it('prints spans at exit synchronously', () => {
    const { exporter, output } = capture();
    exporter.print([makeSpan({ id: 'waiting', parent: 'root' })]);
    exporter.printAtExit([makeSpan({ id: 'also', parent: 'root', start: 10 })], 100);
    expect(spanLines(output()).map((line) => line.split(/\s{2,}/)[0])).toEqual(['waiting', 'also']);
  });

  it('prints spans that waited too long on a later export', async () => {
    vi.useFakeTimers({ now: T0, toFake: ['Date'] });
    const { exporter, writes } = capture();
    exporter.print([makeSpan({ id: 'stuck', parent: 'never' })]);
    vi.setSystemTime(T0 + 9_000);
    exporter.print([makeSpan({ id: 'x', parent: 'y', traceId: OTHER_TRACE_ID })]);
    expect(writes).toEqual([]);
    vi.setSystemTime(T0 + 10_001);
    exporter.print([]);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain('stuck');
    expect(writes[0]).not.toContain(OTHER_TRACE_ID);
  });

  it('bounds memory: the oldest trace is printed when a limit is reached', async () => {
    const { exporter, writes } = capture({ maxPendingTraces: 3, maxPendingSpans: 5 });
    const traceId = (n: number) => n.toString(16).padStart(32, '0');
    for (let n = 1; n <= 3; n++) exporter.print([makeSpan({ id: 'c', parent: 'p', traceId: traceId(n) })]);
    expect(writes).toEqual([]);
    exporter.print([makeSpan({ id: 'c', parent: 'p', traceId: traceId(4) })]);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toContain(`trace ${traceId(1)}`);
    // Three spans for trace 5 bring the total to six: trace 2 goes.
    exporter.print([1, 2, 3].map((i) => makeSpan({ id: `s${i}`, parent: 'p', traceId: traceId(5) })));
    expect(writes.join('')).toContain(`trace ${traceId(2)}`);
    expect(writes.join('')).not.toContain(`trace ${traceId(5)}`);
  });

  it('bounds memory with the default limits', async () => {
    const { exporter, writes } = capture();
    const spans: ReadableSpan[] = [];
    for (let n = 0; n < 1_500; n++) {
      spans.push(makeSpan({ id: 'c', parent: 'p', traceId: n.toString(16).padStart(32, '0') }));
    }
    exporter.print(spans);
    expect(writes.join('').match(/^trace /gm)).toHaveLength(500);
  });

  it('keeps control characters out of the output', async () => {
    const { exporter, output } = capture();
    exporter.print([makeSpan({ id: 'root', name: 'evil\nname\x1b[31m', attributes: { 'http.route': '/a\r\nb' } })]);
    expect(output()).not.toContain('\x1b');
    expect(spanLines(output())).toHaveLength(1);
    expect(output()).toContain('http.route=/a  b');
  });

  it('uses colour only on a terminal without NO_COLOR', async () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((text: string | Uint8Array) => {
      written.push(String(text));
      return true;
    });
    const isTTY = Object.getOwnPropertyDescriptor(process.stdout, 'isTTY');
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    try {
      vi.stubEnv('NO_COLOR', '');
      const tree = () => [
        makeSpan({ id: 'root' }),
        makeSpan({ id: 'a', parent: 'root', start: 0, end: 30 }),
        makeSpan({ id: 'b', parent: 'root', start: 30, end: 90 }),
      ];
      new ConsoleTreePrinter(RESOURCE, undefined, { settleMs: 0 }).print(tree());
      expect(written.join('')).toContain('\x1b[');
      expect(written.join('')).toContain('\x1b[36m\x1b[1m◆\x1b[22m\x1b[39m ');
      written.length = 0;
      vi.stubEnv('NO_COLOR', '1');
      new ConsoleTreePrinter(RESOURCE, undefined, { settleMs: 0 }).print(tree());
      expect(written.join('')).toContain('trace ');
      expect(written.join('')).toContain('insights:');
      expect(written.join('')).not.toContain('\x1b[');
    } finally {
      if (isTTY) Object.defineProperty(process.stdout, 'isTTY', isTTY);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });

  it('shows the path on server lines, so that traces of a route-less handler can be told apart', () => {
    const { exporter, output } = capture();
    exporter.print([
      makeSpan({ id: 'a', name: 'GET', kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.path': '/users/42' } }),
      makeSpan({
        id: 'b',
        name: 'GET /users/:id',
        kind: SpanKind.SERVER,
        traceId: OTHER_TRACE_ID,
        attributes: { 'http.request.method': 'GET', 'http.route': '/users/:id', 'url.path': '/users/7' },
      }),
    ]);
    expect(lineOf(output(), 'GET')).toMatch(/^GET +server +100\.0 ms {2}\[█{30}\] {2}\/users\/42 {2}http\.request\.method=GET$/);
    expect(lineOf(output(), 'GET /users/:id')).toMatch(/\] {2}\/users\/7 {2}http\.request\.method=GET {2}http\.route=\/users\/:id$/);
  });

  it('marks the critical path and prints the insights under the tree', () => {
    const { exporter, output } = capture();
    const select = (id: string, start: number) =>
      makeSpan({
        id,
        parent: 'handler',
        name: 'SELECT orders',
        kind: SpanKind.CLIENT,
        start,
        end: start + 10,
        attributes: { 'db.query.summary': 'SELECT orders' },
      });
    exporter.print([
      makeSpan({ id: 'root', name: 'GET /users/:id', kind: SpanKind.SERVER, end: 100 }),
      makeSpan({ id: 'handler', parent: 'root', name: 'handler', start: 5, end: 95 }),
      // Runs alongside the first query, which the handler waited for: not on the path.
      makeSpan({ id: 'log', parent: 'handler', name: 'log', start: 12, end: 14 }),
      select('q1', 10),
      select('q2', 20),
      select('q3', 30),
    ]);
    const text = output();
    const rows = text.split('\n').slice(1, 7);
    expect(rows.map((row) => row.slice(0, 2))).toEqual(['◆ ', '◆ ', '◆ ', '  ', '◆ ', '◆ ']);
    expect(rows.map((row) => row.slice(2).split(/(?<=\S)\s{2,}/)[0])).toEqual([
      'GET /users/:id',
      '└─ handler',
      '   ├─ SELECT orders',
      '   ├─ log',
      '   ├─ SELECT orders',
      '   └─ SELECT orders',
    ]);
    expect(text.split('\n')[7]).toBe('  insights:');
    expect(insightLines(text)).toEqual([
      'critical path (◆): 5 spans, 100.0 ms; most time in handler 60.0 ms (60%), SELECT orders ×3 30.0 ms (30%), GET /users/:id 10.0 ms (10%)',
      'N+1: SELECT orders ×3 under handler (30.0 ms, 30% of the request, one after another)',
      'dominant: handler takes 60.0 ms itself, outside any child span (60% of the request)',
    ]);
    expect(text.endsWith('\n\n')).toBe(true);
  });

  it('prints no insight lines and no marker column for a root alone, or when nothing is found', () => {
    const { exporter, writes } = capture();
    exporter.print([makeSpan({ id: 'root' })]);
    expect(writes[0]).not.toContain('insights');
    expect(writes[0]!.split('\n')[1]).toMatch(/^root /);
  });

  it('flush prints everything held back: settling traces, remote roots, traces without their root', async () => {
    const { exporter, writes } = capture({ settleMs: 60_000 });
    exporter.print([makeSpan({ id: 'child', parent: 'root', start: 10, end: 20 }), makeSpan({ id: 'root' })]);
    exporter.print([makeSpan({ id: 'server', parent: 'upstream', remoteParent: true, traceId: OTHER_TRACE_ID })]);
    exporter.print([makeSpan({ id: 'orphan', parent: 'open', traceId: '1'.repeat(32) })]);
    expect(writes).toEqual([]);
    expect(exporter.hasPending()).toBe(true);
    await exporter.flush();
    expect(exporter.hasPending()).toBe(false);
    const text = writes.join('');
    expect(text.match(/^trace /gm)).toHaveLength(3);
    expect(treeOf(text)).toEqual(['root', '└─ child', 'server', 'orphan']);
    expect(text).toContain(`trace ${OTHER_TRACE_ID}  service checkout  100.0 ms  1 span\n`);
    expect(text).toContain('(root span not seen)');
  });

  it('the processor: hasPendingSpans while traces wait, forceFlush prints them, flushAtExit too', async () => {
    const writes: string[] = [];
    const processor = new ConsoleSpanProcessor(new ConsoleTreePrinter(RESOURCE, (text) => writes.push(text)));
    processor.onEnd(makeSpan({ id: 'root', remoteParent: true, parent: 'upstream' }));
    expect(processor.hasPendingSpans()).toBe(true);
    await processor.forceFlush();
    expect(processor.hasPendingSpans()).toBe(false);
    expect(writes).toHaveLength(1);
    processor.onEnd(makeSpan({ id: 'next', traceId: OTHER_TRACE_ID }));
    processor.flushAtExit(100);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain(OTHER_TRACE_ID);
    await processor.shutdown();
  });
});
