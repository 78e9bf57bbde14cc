import { SpanKind } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { criticalPath, findInsights } from '../../../src/export/console-insights';
import { buildTree } from '../../../src/export/console-tree';
import type { ReadableSpan } from '../../../src/trace/types';
import { makeSpan as makeReadableSpan, TRACE_ID } from '../../helpers/spans';

const T0 = 1700000000000;

interface SpanInit {
  id: string;
  parent?: string;
  name?: string;
  kind?: SpanKind;
  start: number;
  end: number;
  remoteParent?: boolean;
  attributes?: Attributes;
}

/** A finished span of the one trace, ids and times given short (`start`/`end` in ms after T0). */
function makeSpan(init: SpanInit): ReadableSpan {
  return makeReadableSpan({
    name: init.name ?? init.id,
    kind: init.kind ?? SpanKind.INTERNAL,
    context: { traceId: TRACE_ID, spanId: init.id.padStart(16, '0') },
    parentSpanId: init.parent?.padStart(16, '0'),
    parentIsRemote: init.remoteParent ?? false,
    startTime: T0 + init.start,
    endTime: T0 + init.end,
    attributes: init.attributes ?? {},
  });
}

const server = (end: number, init: Partial<SpanInit> = {}) =>
  makeSpan({
    id: 'root',
    name: 'GET /users/:id',
    kind: SpanKind.SERVER,
    start: 0,
    end,
    attributes: { 'http.request.method': 'GET', 'http.route': '/users/:id', 'url.path': '/users/42' },
    ...init,
  });

const query = (id: string, start: number, end: number, summary = 'SELECT orders', parent = 'root') =>
  makeSpan({
    id,
    parent,
    name: summary,
    kind: SpanKind.CLIENT,
    start,
    end,
    attributes: { 'db.system.name': 'postgresql', 'db.query.summary': summary, 'db.query.text': `${summary} WHERE id = $1` },
  });

const call = (id: string, start: number, end: number, url: string, parent = 'root') =>
  makeSpan({
    id,
    parent,
    name: 'GET',
    kind: SpanKind.CLIENT,
    start,
    end,
    attributes: { 'http.request.method': 'GET', 'server.address': 'inventory', 'url.full': `http://inventory${url}` },
  });

function insightsOf(spans: ReadableSpan[]) {
  return findInsights(buildTree(spans));
}

function lines(spans: ReadableSpan[], kind: string): string[] {
  return insightsOf(spans)
    .insights.filter((insight) => insight.kind === kind)
    .map((insight) => insight.text);
}

function pathTimes(spans: ReadableSpan[]): Record<string, number> {
  const tree = buildTree(spans);
  const times: Record<string, number> = {};
  for (const [span, time] of criticalPath(tree, tree.roots[0]!)) times[span.name] = Math.round(time * 1000) / 1000;
  return times;
}

describe('critical path', () => {
  it('follows, of concurrent children, the one that ended last, then what ran before it', () => {
    // a and b run together; c runs after b. The root waited on b, then on c: a finished in b's shadow.
    const spans = [
      server(100),
      makeSpan({ id: 'a', parent: 'root', start: 0, end: 50 }),
      makeSpan({ id: 'b', parent: 'root', start: 5, end: 90 }),
      makeSpan({ id: 'c', parent: 'root', start: 90, end: 98 }),
    ];
    expect(pathTimes(spans)).toEqual({ 'GET /users/:id': 7, b: 85, c: 8 });
  });

  it('leaves out a child still running when the chosen one started (partial overlap)', () => {
    const spans = [server(100), makeSpan({ id: 'a', parent: 'root', start: 0, end: 50 }), makeSpan({ id: 'b', parent: 'root', start: 40, end: 100 })];
    expect(pathTimes(spans)).toEqual({ 'GET /users/:id': 40, b: 60 });
  });

  it('goes down through grandchildren and counts each span’s time where it is the deepest on the path', () => {
    const spans = [
      server(100),
      makeSpan({ id: 'handler', parent: 'root', start: 10, end: 95 }),
      makeSpan({ id: 'q1', parent: 'handler', start: 20, end: 40 }),
      makeSpan({ id: 'q2', parent: 'handler', start: 40, end: 90 }),
      makeSpan({ id: 'q2-inner', parent: 'q2', start: 45, end: 85 }),
    ];
    const times = pathTimes(spans);
    expect(times).toEqual({ 'GET /users/:id': 15, handler: 15, q1: 20, q2: 10, 'q2-inner': 40 });
    expect(Object.values(times).reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('never puts a child that outlived its parent on the path (nobody waited for it)', () => {
    const spans = [
      server(20),
      makeSpan({ id: 'detached', parent: 'root', start: 10, end: 80 }),
      makeSpan({ id: 'awaited', parent: 'root', start: 2, end: 8 }),
    ];
    expect(pathTimes(spans)).toEqual({ 'GET /users/:id': 14, awaited: 6 });
  });

  it('is summarized with the spans that took most of it, same names together', () => {
    const spans = [server(100), ...[0, 1, 2, 3].map((i) => query(`q${i}`, 10 + i * 20, 30 + i * 20))];
    const [line] = lines(spans, 'critical path');
    expect(line).toBe('5 spans, 100.0 ms; most time in SELECT orders ×4 80.0 ms (80%), GET /users/:id 20.0 ms (20%)');
    expect(insightsOf(spans).criticalPath.size).toBe(5);
  });

  it('tells a client call from the server span answering it in this process when both carry the same name', () => {
    const spans = [
      server(100),
      call('prices', 5, 90, '/prices'),
      makeSpan({
        id: 'answer',
        parent: 'prices',
        name: 'GET',
        kind: SpanKind.SERVER,
        start: 20,
        end: 80,
        attributes: { 'http.request.method': 'GET', 'url.path': '/prices' },
      }),
    ];
    expect(lines(spans, 'critical path')).toEqual([
      '3 spans, 100.0 ms; most time in GET /prices (server) 60.0 ms (60%), GET /prices (client) 25.0 ms (25%), GET /users/:id 15.0 ms (15%)',
    ]);
  });

  it('says nothing about a root with no children', () => {
    expect(insightsOf([server(100)])).toEqual({ criticalPath: new Set(), insights: [] });
  });
});

describe('N+1', () => {
  it('reports the same query repeated under one parent, with its time and share of the request', () => {
    const spans = [server(100), ...Array.from({ length: 12 }, (_, i) => query(`q${i}`, 10 + i * 5, 13 + i * 5))];
    expect(lines(spans, 'N+1')).toEqual(['SELECT orders ×12 under GET /users/:id (36.0 ms, 36% of the request, one after another)']);
  });

  it('counts concurrent repeats by the time they covered together', () => {
    const spans = [server(100), query('q1', 10, 30), query('q2', 10, 30), query('q3', 20, 40)];
    expect(lines(spans, 'N+1')).toEqual(['SELECT orders ×3 under GET /users/:id (30.0 ms, 30% of the request)']);
  });

  it('groups HTTP calls by method, server and route, ids in the path replaced', () => {
    const spans = [server(100), call('c1', 10, 20, '/items/1'), call('c2', 20, 30, '/items/22'), call('c3', 30, 40, '/items/333?full=1')];
    expect(lines(spans, 'N+1')).toEqual(['GET /items/{id} ×3 under GET /users/:id (30.0 ms, 30% of the request, one after another)']);
  });

  it('does not report two repeats, nor different queries, nor repeats under different parents', () => {
    expect(lines([server(100), query('q1', 10, 20), query('q2', 20, 30)], 'N+1')).toEqual([]);
    expect(lines([server(100), query('q1', 10, 20, 'SELECT a'), query('q2', 20, 30, 'SELECT b'), query('q3', 30, 40, 'SELECT c')], 'N+1')).toEqual(
      [],
    );
    const split = [
      server(100),
      makeSpan({ id: 'h1', parent: 'root', start: 0, end: 50 }),
      makeSpan({ id: 'h2', parent: 'root', start: 50, end: 100 }),
      query('q1', 10, 20, 'SELECT orders', 'h1'),
      query('q2', 20, 30, 'SELECT orders', 'h1'),
      query('q3', 60, 70, 'SELECT orders', 'h2'),
    ];
    expect(lines(split, 'N+1')).toEqual([]);
  });

  it('names a route-less server parent by its path', () => {
    const root = server(100, { name: 'GET', attributes: { 'http.request.method': 'GET', 'url.path': '/users/42' } });
    const spans = [root, query('q1', 10, 20), query('q2', 20, 30), query('q3', 30, 40)];
    expect(lines(spans, 'N+1')[0]).toMatch(/^SELECT orders ×3 under GET \/users\/42 /);
  });
});

describe('sequential siblings', () => {
  it('reports calls that ran one after another with what running them together would save', () => {
    const spans = [server(100), call('prices', 10, 40, '/prices'), query('stock', 40, 60, 'SELECT stock'), call('tax', 60, 70, '/tax')];
    expect(lines(spans, 'sequential')).toEqual([
      'GET /prices → SELECT stock → GET /tax under GET /users/:id ran one after another (3 calls, 60.0 ms): ' +
        'could run concurrently if independent, saving ~30.0 ms (30% of the request)',
    ]);
  });

  it('does not report concurrent calls', () => {
    const spans = [server(100), call('prices', 10, 40, '/prices'), call('stock', 12, 60, '/stock'), call('tax', 15, 30, '/tax')];
    expect(lines(spans, 'sequential')).toEqual([]);
  });

  it('splits runs where calls overlap, and reports only runs of two or more', () => {
    // a, then b and c together, then d: a → b and c → d are the runs.
    const spans = [server(100), call('a', 0, 20, '/a'), call('b', 20, 50, '/b'), call('c', 30, 60, '/c'), call('d', 60, 90, '/d')];
    expect(lines(spans, 'sequential').map((line) => line.split(' under ')[0])).toEqual(['GET /c → GET /d', 'GET /a → GET /b']);
  });

  it('stays quiet when the saving is small next to the parent, or under a millisecond', () => {
    expect(lines([server(100), call('a', 0, 5, '/a'), call('b', 5, 10, '/b')], 'sequential')).toEqual([]); // 5 ms of 100
    expect(lines([server(4), call('a', 0, 0.5, '/a'), call('b', 0.5, 1, '/b')], 'sequential')).toEqual([]); // 0.5 ms
  });

  it('ignores internal spans and leaves repeated calls to the N+1 line', () => {
    const internal = [
      server(100),
      makeSpan({ id: 'x', parent: 'root', start: 0, end: 40 }),
      makeSpan({ id: 'y', parent: 'root', start: 40, end: 80 }),
    ];
    expect(lines(internal, 'sequential')).toEqual([]);
    const repeats = [server(100), query('q1', 0, 20), query('q2', 20, 40), query('q3', 40, 60)];
    expect(lines(repeats, 'sequential')).toEqual([]);
    expect(lines(repeats, 'N+1')).toHaveLength(1);
  });
});

describe('dominant span', () => {
  it('reports a span whose own time is at least half the request', () => {
    const spans = [
      server(100),
      makeSpan({ id: 'render', parent: 'root', start: 10, end: 90 }),
      makeSpan({ id: 'partial', parent: 'render', start: 20, end: 30 }),
    ];
    expect(lines(spans, 'dominant')).toEqual(['render takes 70.0 ms itself, outside any child span (70% of the request)']);
  });

  it('does not report a span whose time is in its children, nor the root, nor one under half', () => {
    const inChildren = [
      server(100),
      makeSpan({ id: 'handler', parent: 'root', start: 0, end: 100 }),
      query('q1', 0, 45, 'SELECT a', 'handler'),
      query('q2', 45, 90, 'SELECT b', 'handler'),
    ];
    expect(lines(inChildren, 'dominant')).toEqual([]);
    expect(lines([server(100), makeSpan({ id: 'tiny', parent: 'root', start: 0, end: 1 })], 'dominant')).toEqual([]);
    expect(lines([server(100), makeSpan({ id: 'half', parent: 'root', start: 0, end: 49 })], 'dominant')).toEqual([]);
  });
});
