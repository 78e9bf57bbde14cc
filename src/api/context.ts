import type { Context } from '@opentelemetry/api';

/**
 * Context keys are Symbol.for(description), exactly as @opentelemetry/api makes them, so a key
 * made here and one made by the application's copy of the API are the same key.
 */
export function createContextKey(description: string): symbol {
  return Symbol.for(description);
}

const DELETED = Symbol('deleted');
/** Past this many links the values are folded into one map, so lookups stay short whatever happens. */
const MAX_CHAIN = 16;

/**
 * An immutable context stored as a chain: setValue() allocates one small link instead of copying
 * every value (as the API's own context does), and getValue() walks back from the newest link (the
 * span key, looked up most, is usually the newest). A chain that grows long is folded into a map.
 */
class ChainedContext implements Context {
  private readonly depth: number;

  constructor(
    private readonly parent: ChainedContext | undefined,
    private readonly key: symbol | undefined,
    private readonly value: unknown,
    /** Set on a folded link: every value of the chain below it. */
    private readonly folded?: ReadonlyMap<symbol, unknown>,
  ) {
    this.depth = parent === undefined ? 0 : parent.depth + 1;
  }

  getValue(key: symbol): unknown {
    for (let link: ChainedContext | undefined = this; link !== undefined; link = link.parent) {
      if (link.folded !== undefined) return link.folded.get(key);
      if (link.key === key) return link.value === DELETED ? undefined : link.value;
    }
    return undefined;
  }

  setValue(key: symbol, value: unknown): Context {
    const base = this.depth < MAX_CHAIN ? this : this.fold();
    return new ChainedContext(base, key, value);
  }

  deleteValue(key: symbol): Context {
    return this.getValue(key) === undefined ? this : this.setValue(key, DELETED);
  }

  /** The same values as a single link holding a map. */
  private fold(): ChainedContext {
    const values = new Map<symbol, unknown>();
    const links: ChainedContext[] = [];
    let link: ChainedContext | undefined = this;
    for (; link !== undefined && link.folded === undefined; link = link.parent) links.push(link);
    if (link?.folded !== undefined) for (const [key, value] of link.folded) values.set(key, value);
    for (let i = links.length - 1; i >= 0; i--) {
      const { key, value } = links[i]!;
      if (key === undefined) continue;
      if (value === DELETED) values.delete(key);
      else values.set(key, value);
    }
    return new ChainedContext(undefined, undefined, undefined, values);
  }
}

const ROOT = new ChainedContext(undefined, undefined, undefined);

/** The context with no values: the parent of everything when no context is active. */
export const ROOT_CONTEXT: Context = ROOT;
