import { SpanKind } from '@opentelemetry/api';
import type { Attributes, SpanStatus } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsoleTreePrinter } from '../../../src/export/console-span-processor';
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

function capture(limits?: ConstructorParameters<typeof ConsoleTreePrinter>[2]) {
  const writes: string[] = [];
  const exporter = new ConsoleTreePrinter(RESOURCE, (text) => writes.push(text), limits);
  return { exporter, writes, output: () => writes.join('') };
}

/** Span lines of a printed trace, without the header and the blank line after it. */
function spanLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '' && !line.startsWith('trace '));
}

function lineOf(text: string, name: string): string {
  const line = spanLines(text).find((candidate) => candidate.replace(/^[│├└─ ]*/, '').startsWith(name + ' '));
  if (line === undefined) throw new Error(`no line for ${name} in:\n${text}`);
  return line;
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
    const { exporter, output } = capture({ settleMs: 1_000 });
    exporter.print([makeSpan({ id: 'server', parent: 'client', remoteParent: true, start: 20, end: 60 })]);
    exporter.print([makeSpan({ id: 'client', parent: 'root', start: 10, end: 80, kind: SpanKind.CLIENT })]);
    exporter.print([makeSpan({ id: 'root', end: 100 })]);
    expect(spanLines(output()).map((line) => line.split(/(?<=\S)\s{2,}/)[0])).toEqual(['root', '└─ client', '   └─ server']);
  });

  it('prints spans that arrive after their trace was printed as a separate tree', async () => {
    const { exporter, writes } = capture();
    exporter.print([makeSpan({ id: 'root' })]);
    exporter.print([makeSpan({ id: 'late', parent: 'root', start: 50, end: 150 })]);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain('more spans of a trace printed before');
    expect(spanLines(writes[1]!)[0]).toMatch(/^late .*\(parent span 0{12}root not seen\)$/);
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
      new ConsoleTreePrinter(RESOURCE).print([makeSpan({ id: 'root' })]);
      expect(written.join('')).toContain('\x1b[');
      written.length = 0;
      vi.stubEnv('NO_COLOR', '1');
      new ConsoleTreePrinter(RESOURCE).print([makeSpan({ id: 'root' })]);
      expect(written.join('')).toContain('trace ');
      expect(written.join('')).not.toContain('\x1b[');
    } finally {
      if (isTTY) Object.defineProperty(process.stdout, 'isTTY', isTTY);
      else delete (process.stdout as { isTTY?: boolean }).isTTY;
    }
  });
});
