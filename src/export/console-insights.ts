import { SpanKind } from '../api/trace';
import {
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_QUERY_TEXT,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
} from '../semconv';
import type { ReadableSpan } from '../trace/types';
import { formatDuration, KIND_NAMES, percentOf, truncate } from './console-text';
import { childrenOf, isLocalRoot, type TraceTree } from './console-tree';

/**
 * Where a printed trace's time went, found when the trace is printed (never while a request
 * runs): the critical path, calls repeated under one parent (N+1), sibling calls made one after
 * another, and a span whose own time is most of the request. Pure functions of the finished spans.
 */

/** The instrumentation's url.template (not a name the agent emits itself). */
const ATTR_URL_TEMPLATE = 'url.template';

export interface InsightThresholds {
  /** The same call under one parent at least this many times is an N+1. */
  readonly minRepeats: number;
  /** Sequential calls are reported when running them together would save at least this... */
  readonly minSavingMs: number;
  /** ...and at least this share of their parent's duration. */
  readonly minSavingShare: number;
  /** A span whose own time is at least this share of the root's duration dominates the request. */
  readonly dominantShare: number;
}

export const DEFAULT_THRESHOLDS: InsightThresholds = { minRepeats: 3, minSavingMs: 1, minSavingShare: 0.1, dominantShare: 0.5 };

/** Lines of each kind at most, the largest first: a few lines a person reads, not a report. */
const MAX_LINES_PER_KIND = 3;
const MAX_LABEL = 48;
const MAX_CHAIN = 4;

export type InsightKind = 'critical path' | 'N+1' | 'sequential' | 'dominant';

export interface Insight {
  readonly kind: InsightKind;
  readonly text: string;
}

export interface TraceInsights {
  /** Spans on the critical path; empty when there is no path worth marking (a root alone). */
  readonly criticalPath: ReadonlySet<ReadableSpan>;
  readonly insights: readonly Insight[];
}

const NOTHING: TraceInsights = { criticalPath: new Set(), insights: [] };

export function findInsights(tree: TraceTree, thresholds: InsightThresholds = DEFAULT_THRESHOLDS): TraceInsights {
  const root = requestRoot(tree);
  if (root === undefined || childrenOf(tree, root).length === 0) return NOTHING;
  const whole = root.endTime - root.startTime;
  const request = { root, whole, name: root.kind === SpanKind.SERVER ? 'the request' : spanLabel(root) };

  const onPath = criticalPath(tree, root);
  const insights: Insight[] = [];
  if (onPath.size >= 2) insights.push({ kind: 'critical path', text: describeCriticalPath(onPath, request) });

  const repeats: Finding[] = [];
  const sequences: Finding[] = [];
  let dominant: { span: ReadableSpan; own: number } | undefined;
  const stack: ReadableSpan[] = [root];
  const seen = new Set<ReadableSpan>();
  for (let span = stack.pop(); span; span = stack.pop()) {
    if (seen.has(span)) continue;
    seen.add(span);
    const kids = childrenOf(tree, span);
    for (const kid of kids) stack.push(kid);
    const repeated = kids.length >= thresholds.minRepeats ? findRepeats(span, kids, thresholds, request, repeats) : undefined;
    if (kids.length >= 2) findSequences(span, kids, repeated, thresholds, request, sequences);
    if (span !== root && span.endTime <= root.endTime) {
      const own = span.endTime - span.startTime - unionLength(kids, span.startTime, span.endTime);
      if (own >= thresholds.dominantShare * whole && whole > 0 && (dominant === undefined || own > dominant.own)) dominant = { span, own };
    }
  }
  for (const finding of largestFirst(repeats)) insights.push({ kind: 'N+1', text: finding.text });
  for (const finding of largestFirst(sequences)) insights.push({ kind: 'sequential', text: finding.text });
  if (dominant) {
    const { span, own } = dominant;
    insights.push({
      kind: 'dominant',
      text: `${spanLabel(span)} takes ${formatDuration(own)} itself, outside any child span (${percentOf(own, whole)} of ${request.name})`,
    });
  }
  return { criticalPath: onPath.size >= 2 ? new Set(onPath.keys()) : new Set(), insights };
}

interface Request {
  readonly root: ReadableSpan;
  readonly whole: number;
  /** How lines refer to the root: "the request" for a server span, else its name. */
  readonly name: string;
}

interface Finding {
  readonly weight: number;
  readonly text: string;
}

function largestFirst(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => b.weight - a.weight).slice(0, MAX_LINES_PER_KIND);
}

/** The span the trace's percentages refer to: the longest local root at the top of the tree (else the longest top span). */
function requestRoot(tree: TraceTree): ReadableSpan | undefined {
  let best: ReadableSpan | undefined;
  for (const span of tree.roots) {
    const better =
      best === undefined ||
      (isLocalRoot(span) && !isLocalRoot(best)) ||
      (isLocalRoot(span) === isLocalRoot(best) && span.endTime - span.startTime > best.endTime - best.startTime);
    if (better) best = span;
  }
  return best;
}

/**
 * The critical path: the chain of spans the root's end waited on, each with its time on it.
 *
 * Walking back in time from the end of a span S (the root: its end), the child of S that ended
 * last, at or before that moment, is what S was waiting on then: it is on the path, its own part
 * is found the same way within it, and the walk goes on from that child's start. So:
 * - of children that ran concurrently, only the one that finished last is on the path: the
 *   others finished in its shadow and decided nothing;
 * - a child still running when the chosen one started is not on the path either (the chosen
 *   one did not wait for it), nor is a child that ended after its parent (detached work, an
 *   email sent after the response: the parent did not wait for it);
 * - children that ran one after another are all on it, and time between them is S's own.
 * A span's time on the path is the part of the root's duration in which it is the deepest span
 * the path runs through; these add up to the root's duration. Iterative: traces can be deep.
 */
export function criticalPath(tree: TraceTree, root: ReadableSpan): Map<ReadableSpan, number> {
  const onPath = new Map<ReadableSpan, number>();
  const work: Array<[ReadableSpan, number, number]> = [[root, root.startTime, root.endTime]];
  for (let item = work.pop(); item; item = work.pop()) {
    const [span, from, until] = item;
    if (onPath.has(span)) continue;
    const kids = childrenOf(tree, span).slice().sort(byEndTimeDescending);
    let moment = until;
    let own = 0;
    for (const kid of kids) {
      if (kid.endTime > moment) continue;
      if (kid.endTime <= from) break;
      own += moment - kid.endTime;
      const kidFrom = Math.max(kid.startTime, from);
      work.push([kid, kidFrom, kid.endTime]);
      moment = kidFrom;
    }
    onPath.set(span, own + Math.max(0, moment - from));
  }
  return onPath;
}

function byEndTimeDescending(a: ReadableSpan, b: ReadableSpan): number {
  return b.endTime - a.endTime;
}

/**
 * "16 spans, 193.5 ms; most time in GET /prices 34.8 ms (18%), GET /items/{id} ×4 30.8 ms (16%)":
 * spans of the same name and kind together, the kind added where a name alone is ambiguous (a
 * client call and the server span answering it in this same process).
 */
function describeCriticalPath(onPath: Map<ReadableSpan, number>, request: Request): string {
  const groups = new Map<string, { label: string; kind: ReadableSpan['kind']; time: number; count: number }>();
  const kindsByLabel = new Map<string, Set<ReadableSpan['kind']>>();
  for (const [span, time] of onPath) {
    const label = spanLabel(span);
    const key = `${span.kind}\0${label}`;
    const group = groups.get(key);
    if (group) {
      group.time += time;
      group.count++;
    } else {
      groups.set(key, { label, kind: span.kind, time, count: 1 });
    }
    let kinds = kindsByLabel.get(label);
    if (kinds === undefined) kindsByLabel.set(label, (kinds = new Set()));
    kinds.add(span.kind);
  }
  const top = [...groups.values()]
    .filter((group) => group.time > 0)
    .sort((a, b) => b.time - a.time)
    .slice(0, MAX_LINES_PER_KIND)
    .map(({ label, kind, time, count }) => {
      const which = kindsByLabel.get(label)!.size > 1 ? ` (${KIND_NAMES[kind] ?? 'span'})` : '';
      return `${label}${which}${count > 1 ? ` ×${count}` : ''} ${formatDuration(time)} (${percentOf(time, request.whole)})`;
    });
  return `${onPath.size} spans, ${formatDuration(request.whole)}; most time in ${top.join(', ')}`;
}

/** The same call made again and again under one parent; returns the spans it reported. */
function findRepeats(
  parent: ReadableSpan,
  kids: readonly ReadableSpan[],
  thresholds: InsightThresholds,
  request: Request,
  findings: Finding[],
): Set<ReadableSpan> | undefined {
  const groups = new Map<string, ReadableSpan[]>();
  for (const kid of kids) {
    const key = callKey(kid);
    if (key === undefined) continue;
    const group = groups.get(key);
    if (group) group.push(kid);
    else groups.set(key, [kid]);
  }
  let reported: Set<ReadableSpan> | undefined;
  for (const group of groups.values()) {
    if (group.length < thresholds.minRepeats) continue;
    reported ??= new Set();
    for (const span of group) reported.add(span);
    const wall = unionLength(group, -Infinity, Infinity);
    const inRequest = unionLength(group, request.root.startTime, request.root.endTime);
    const oneByOne = group.every((span, i) => i === 0 || span.startTime >= group[i - 1]!.endTime);
    findings.push({
      weight: wall,
      text:
        `${spanLabel(group[0]!)} ×${group.length} under ${spanLabel(parent)} ` +
        `(${formatDuration(wall)}, ${percentOf(inRequest, request.whole)} of ${request.name}${oneByOne ? ', one after another' : ''})`,
    });
  }
  return reported;
}

/**
 * What makes two calls "the same": the span name, and the query (summary, else text) for a
 * database, or the method, server and route (template, else the path with ids replaced) for HTTP.
 * Only CLIENT spans: a call that leaves the process.
 */
function callKey(span: ReadableSpan): string | undefined {
  if (span.kind !== SpanKind.CLIENT) return undefined;
  const attributes = span.attributes;
  const query = attributes[ATTR_DB_QUERY_SUMMARY] ?? attributes[ATTR_DB_QUERY_TEXT];
  if (query !== undefined) return `${span.name}\0${String(query)}`;
  const method = attributes[ATTR_HTTP_REQUEST_METHOD];
  if (method !== undefined) return `${span.name}\0${String(method)}\0${String(attributes[ATTR_SERVER_ADDRESS])}\0${httpRoute(span)}`;
  return span.name;
}

/**
 * Sibling calls that ran one after another (each starting after the previous one ended). The
 * spans cannot show whether one needed another's result, so the line says what running them
 * together would save if they are independent: their total minus the longest.
 */
function findSequences(
  parent: ReadableSpan,
  kids: readonly ReadableSpan[],
  repeated: Set<ReadableSpan> | undefined,
  thresholds: InsightThresholds,
  request: Request,
  findings: Finding[],
): void {
  const parentDuration = parent.endTime - parent.startTime;
  let run: ReadableSpan[] = [];
  const consider = (): void => {
    if (run.length < 2) return;
    let sum = 0;
    let longest = 0;
    for (const span of run) {
      const duration = span.endTime - span.startTime;
      sum += duration;
      longest = Math.max(longest, duration);
    }
    const saving = sum - longest;
    if (saving < thresholds.minSavingMs || saving < thresholds.minSavingShare * parentDuration) return;
    const names = run.map(spanLabel);
    const chain = names.length > MAX_CHAIN ? [...names.slice(0, MAX_CHAIN - 1), '…', names[names.length - 1]] : names;
    findings.push({
      weight: saving,
      text:
        `${chain.join(' → ')} under ${spanLabel(parent)} ran one after another (${run.length} calls, ${formatDuration(sum)}): ` +
        `could run concurrently if independent, saving ~${formatDuration(saving)} (${percentOf(saving, request.whole)} of ${request.name})`,
    });
  };
  // Children come in start order; an overlap ends a run (those two did run concurrently).
  for (const kid of kids) {
    if (kid.kind !== SpanKind.CLIENT || repeated?.has(kid)) continue;
    const previous = run[run.length - 1];
    if (previous !== undefined && kid.startTime < previous.endTime) {
      consider();
      run = [];
    }
    run.push(kid);
  }
  consider();
}

/** Total time covered by spans (in start order), clipped to [from, until]. */
function unionLength(spans: readonly ReadableSpan[], from: number, until: number): number {
  let total = 0;
  let start = 0;
  let end = -Infinity;
  for (const span of spans) {
    const a = Math.max(span.startTime, from);
    const b = Math.min(span.endTime, until);
    if (b <= a) continue;
    if (a > end) {
      if (end > start) total += end - start;
      start = a;
      end = b;
    } else if (b > end) {
      end = b;
    }
  }
  if (end > start) total += end - start;
  return total;
}

/**
 * A span as the lines name it: its name as the tree shows it, and for an HTTP span named by its
 * method alone the path that tells it apart (a server's url.path, a client's route or templated path).
 */
export function spanLabel(span: ReadableSpan): string {
  const name = truncate(span.name, MAX_LABEL);
  if (span.name.includes(' ')) return name;
  const attributes = span.attributes;
  if (attributes[ATTR_HTTP_REQUEST_METHOD] === undefined) return name;
  const path = span.kind === SpanKind.SERVER ? (attributes[ATTR_URL_PATH] ?? attributes[ATTR_HTTP_ROUTE]) : httpRoute(span);
  return path === undefined || path === '' ? name : `${name} ${truncate(String(path), MAX_LABEL)}`;
}

/** A client call's route: its url.template, else the path of url.full with the ids in it replaced by {id}. */
function httpRoute(span: ReadableSpan): string {
  const attributes = span.attributes;
  const template = attributes[ATTR_URL_TEMPLATE] ?? attributes[ATTR_HTTP_ROUTE];
  if (template !== undefined) return String(template);
  const full = attributes[ATTR_URL_FULL] ?? attributes[ATTR_URL_PATH];
  if (full === undefined) return '';
  let path = String(full);
  try {
    path = new URL(path, 'http://localhost').pathname;
  } catch {
    // not a URL: keep the text
  }
  return path.replace(/\/(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,})(?=\/|$)/gi, '/{id}');
}
