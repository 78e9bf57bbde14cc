import type { ReadableSpan } from '../trace/types';
import type { SpanPack, SpanPacker } from './types';

/** A pack that holds the span objects themselves (exporters that do not serialize ahead). */
export interface SpanList extends SpanPack {
  readonly spans: readonly ReadableSpan[];
}

export class SpanListPacker implements SpanPacker {
  private spans: ReadableSpan[] = [];

  get count(): number {
    return this.spans.length;
  }

  add(span: ReadableSpan): void {
    this.spans.push(span);
  }

  take(): SpanList {
    const spans = this.spans;
    this.spans = [];
    return { count: spans.length, spans };
  }
}

/** The spans of some span lists, in order. */
export function spansOf(packs: readonly SpanPack[]): ReadableSpan[] {
  return (packs as readonly SpanList[]).flatMap((pack) => pack.spans);
}
