import type { ReadableSpan } from '../trace/types';

/** The spans of one printed trace as a tree. */
export interface TraceTree {
  /** Spans whose parent is not among them (a local root, or a span whose parent was not seen), in start order. */
  readonly roots: ReadableSpan[];
  /** Children by their parent's span id, in start order. */
  readonly children: ReadonlyMap<string, ReadableSpan[]>;
}

const NO_CHILDREN: ReadableSpan[] = [];

export function buildTree(spans: readonly ReadableSpan[]): TraceTree {
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
  roots.sort(byStartTime);
  for (const list of children.values()) list.sort(byStartTime);
  return { roots, children };
}

export function childrenOf(tree: TraceTree, span: ReadableSpan): ReadableSpan[] {
  return tree.children.get(span.spanContext().spanId) ?? NO_CHILDREN;
}

/** A span that starts its trace in this process: no parent, or a parent in another process. */
export function isLocalRoot(span: ReadableSpan): boolean {
  return !span.parentSpanId || span.parentIsRemote;
}

export function byStartTime(a: ReadableSpan, b: ReadableSpan): number {
  return a.startTime - b.startTime;
}
