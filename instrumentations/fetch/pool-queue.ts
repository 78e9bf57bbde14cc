import type { Context } from '@opentelemetry/api';
import { agentContext } from '../../src/instrumentation/api';
import type { ModulePatch } from '../../src/instrumentation/types';
import { SymbolSlot } from '../../src/instrumentation/symbol-slot';
import { wrap, type WrapperOwner } from '../../src/instrumentation/wrap';

/**
 * A Pool (or an Agent's pool) at its `connections` limit queues a request before undici creates
 * it; the request is created, and `undici:request:create` published, later, in the context of
 * whichever request freed a connection. To parent such a request to its own caller, the pool's
 * dispatch remembers the caller's context per handler, and the create message finds it again
 * through the request's handler. Only the npm undici package can be hooked this way (the copy
 * bundled in Node is not loaded through require); Node's default global dispatcher does not
 * limit connections, so global fetch queues nothing unless the application installs a limited
 * undici dispatcher, which then is the npm package.
 */
const callerContexts = new SymbolSlot<Context>('tracelet.fetch.callerContext');
let poolsInUse = false;

/** The symbol undici's Request keeps its handler under, per Request class (one per undici copy). */
const handlerKeys = new WeakMap<Function, symbol | null>();

interface Symbols {
  readonly kDispatch?: symbol;
}

let kDispatch: symbol | undefined;

function wrapPoolDispatch(poolBase: { prototype: Record<symbol, unknown> } | undefined, ctx: WrapperOwner): void {
  const prototype = poolBase?.prototype;
  if (prototype === undefined || kDispatch === undefined) return;
  wrap(
    ctx,
    prototype,
    kDispatch,
    (original: (opts: unknown, handler: unknown) => boolean) =>
      function dispatch(this: unknown, _opts: unknown, handler: unknown) {
        if (handler !== null && typeof handler === 'object') {
          poolsInUse = true;
          callerContexts.set(handler, agentContext.active());
        }
        return original.apply(this, arguments as unknown as [unknown, unknown]);
      },
  );
}

/** The context the request's caller was in when a pool took the request, if a pool did. */
export function callerContextOf(request: object): Context | undefined {
  if (!poolsInUse) return undefined;
  const key = handlerKey(request);
  const handler = key === undefined ? undefined : (request as Record<symbol, unknown>)[key];
  return handler !== null && typeof handler === 'object' ? callerContexts.get(handler) : undefined;
}

function handlerKey(request: object): symbol | undefined {
  const type = request.constructor;
  let key = handlerKeys.get(type);
  if (key === undefined) {
    key = Object.getOwnPropertySymbols(request).find((symbol) => symbol.description === 'handler') ?? null;
    handlerKeys.set(type, key);
  }
  return key ?? undefined;
}

export const poolQueuePatches: readonly ModulePatch[] = [
  {
    module: 'undici',
    file: 'lib/core/symbols.js',
    versions: '>=5 <9',
    patch(symbols: Symbols) {
      kDispatch = symbols.kDispatch;
    },
  },
  {
    module: 'undici',
    file: 'lib/dispatcher/pool-base.js',
    versions: '>=6 <9',
    patch(exports: { PoolBase?: { prototype: Record<symbol, unknown> } }, ctx) {
      wrapPoolDispatch(exports.PoolBase, ctx);
    },
  },
  {
    module: 'undici',
    file: 'lib/pool-base.js',
    versions: '>=5 <6',
    patch(exports: { PoolBase?: { prototype: Record<symbol, unknown> } }, ctx) {
      wrapPoolDispatch(exports.PoolBase, ctx);
    },
  },
];
