import type { Context, Span, Tracer } from '@opentelemetry/api';
import { AsyncResource } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defer, from, isObservable, lastValueFrom, mergeAll, Observable, of, switchMap, timer } from 'rxjs';
import { map } from 'rxjs/operators';
import { nestjsInstrumentation } from '../../../../instrumentations/nestjs';
import { enhancerName, tracedConsumer, tracedGuards, tracedPipes } from '../../../../instrumentations/nestjs/enhancers';
import { endFailed } from '../../../../instrumentations/nestjs/failure';
import { noteHandler, tracedIntercept } from '../../../../instrumentations/nestjs/handler';
import { agentContext } from '../../../../src/api/active';
import { ROOT_CONTEXT } from '../../../../src/api/context';
import { getSpan, setSpan } from '../../../../src/api/trace';
import { frameworkOutcome, isTracedAbove, markTracedAbove, type FrameworkSettings } from '../../../../src/instrumentation/framework';
import { withServerRequest, type ServerRequest } from '../../../../src/instrumentation/http-server-request';
import type { ModulePatch } from '../../../../src/instrumentation/types';
import type { ReadableSpan } from '../../../../src/trace/types';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext } from '../../../helpers/instrumentation-context';

beforeAll(() => {
  installContextManager();
});
afterAll(() => removeContextManager());

type Fn = (...args: unknown[]) => unknown;

function setup(spans: FrameworkSettings['spans'] = 'handler', options: { sampled?: boolean; tracer?: (tracer: Tracer) => Tracer } = {}) {
  const { tracer: real, processor } = testProvider();
  const tracer = options.tracer === undefined ? real : options.tracer(real);
  const errors: unknown[] = [];
  const ctx = instrumentationContext(nestjsInstrumentation, tracer, { OTEL_INSTRUMENTATION_NESTJS_SPANS: spans }, { errors });
  const server = options.sampled === false ? real.startSpan('server', { root: true }, ROOT_CONTEXT) : real.startSpan('server');
  if (options.sampled === false) server.end();
  const request: ServerRequest = { span: server, method: 'GET', route: '/articles/:id', errorType: undefined, spansEndingWithResponse: undefined };
  const serverContext = withServerRequest(setSpan(ROOT_CONTEXT, server), request);
  const outcome = frameworkOutcome(ctx);
  return { ctx, errors, processor, server, request, serverContext, outcome };
}

const byName = (spans: readonly ReadableSpan[], name: string) => {
  const found = spans.filter((s) => s.name === name);
  expect(found, `one span named ${name} in ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0]!;
};
const parentOf = (span: ReadableSpan) => span.parentSpanId;
const idOf = (span: ReadableSpan | Span) => span.spanContext().spanId;

interface Interceptor {
  intercept(context: unknown, next: { handle(): Observable<unknown> }): unknown;
}

/** InterceptorsConsumer.intercept as NestJS 10 and 11 write it (interceptors-consumer.js). */
const interceptorsConsumer = {
  async intercept(
    interceptors: Interceptor[],
    _args: unknown,
    _instance: unknown,
    _callback: unknown,
    next: () => Promise<unknown>,
  ): Promise<unknown> {
    if (interceptors.length === 0) return next();
    const nextFn = async (i = 0): Promise<unknown> => {
      if (i >= interceptors.length) {
        return defer(
          AsyncResource.bind(() =>
            from(next()).pipe(switchMap((res) => (res instanceof Promise || res instanceof Observable ? res : Promise.resolve(res)))),
          ),
        );
      }
      return interceptors[i]!.intercept(
        {},
        { handle: () => defer(AsyncResource.bind(() => nextFn(i + 1)) as () => Promise<Observable<unknown>>).pipe(mergeAll()) },
      );
    };
    return defer(() => nextFn() as Promise<Observable<unknown>>).pipe(mergeAll());
  },
};

/**
 * What Nest does with intercept's result, in the request's context: waits for the Observable's last
 * value (RouterResponseController.transformToResult); subscribing runs the interceptors.
 */
function settleResult(context: Context, result: unknown): Promise<unknown> {
  return agentContext.with(context, async () => {
    const value = await result;
    return value instanceof Observable ? lastValueFrom(value) : value;
  });
}

/** GuardsConsumer.tryActivate as NestJS 10 writes it: an Observable is told by `instanceof`. */
const guardsConsumer = {
  async tryActivate(guards: Array<{ canActivate(context: unknown): unknown }>): Promise<boolean> {
    for (const guard of guards) {
      const result = guard.canActivate({});
      if (await (result instanceof Observable ? lastValueFrom(result) : result)) continue;
      return false;
    }
    return true;
  },
};

/** The same as NestJS 11 writes it: a promise is awaited first, an Observable told by isObservable. */
const guardsConsumer11 = {
  async tryActivate(guards: Array<{ canActivate(context: unknown): unknown }>): Promise<boolean> {
    for (const guard of guards) {
      const value = await guard.canActivate({});
      if (await (isObservable(value) ? lastValueFrom(value) : value)) continue;
      return false;
    }
    return true;
  },
};

/** PipesConsumer.applyPipes (pipes-consumer.js). */
const pipesConsumer = {
  async applyPipes(value: unknown, meta: unknown, transforms: Array<{ transform(value: unknown, meta: unknown): unknown }>): Promise<unknown> {
    return transforms.reduce(async (deferred: Promise<unknown>, pipe) => pipe.transform(await deferred, meta), Promise.resolve(value));
  },
};

class ArticlesController {
  findOne(id: string) {
    return { id, active: getSpan(agentContext.active()) };
  }
}

/** Nest's `next`: pipes (none here), then the controller method. */
const nestNext = (instance: object, callback: Function, args: unknown[]) => async () => Reflect.apply(callback, instance, args) as unknown;

describe('NestJS handler span', () => {
  it('is named {Controller}.{method} as Nest knows the method, runs Nest’s next inside it, and ends when it settles', async () => {
    const s = setup();
    const instance = new ArticlesController();
    // A method a decorator replaced: the function's own name is not the method's.
    const callback = function wrapper(this: ArticlesController, id: string) {
      return ArticlesController.prototype.findOne.call(this, id);
    };
    noteHandler(instance, callback, 'findOne');
    const intercept = tracedIntercept(s.ctx, s.outcome)(interceptorsConsumer.intercept as never);
    const result = (await agentContext.with(s.serverContext, () =>
      intercept.call(interceptorsConsumer, [], [], instance, callback, nestNext(instance, callback, ['7']), 'http'),
    )) as {
      id: string;
      active: Span;
    };
    expect(result.id).toBe('7');
    const handler = byName(s.processor.spans, 'ArticlesController.findOne');
    expect(idOf(result.active)).toBe(idOf(handler));
    expect(parentOf(handler)).toBe(idOf(s.server));
    expect(handler.attributes).toEqual({
      'nestjs.type': 'handler',
      'nestjs.controller': 'ArticlesController',
      'code.function.name': 'findOne',
      'http.route': '/articles/:id',
    });
    expect(s.errors).toEqual([]);
  });

  it('names a method a base class gives two controllers after each controller', async () => {
    const s = setup();
    class Base {
      list() {
        return 'listed';
      }
    }
    class UsersController extends Base {}
    class TeamsController extends Base {}
    const intercept = tracedIntercept(s.ctx, s.outcome)(interceptorsConsumer.intercept as never);
    for (const Controller of [UsersController, TeamsController]) {
      const instance = new Controller();
      noteHandler(instance, Base.prototype.list, 'list');
      await agentContext.with(s.serverContext, () =>
        intercept.call(interceptorsConsumer, [], [], instance, Base.prototype.list, nestNext(instance, Base.prototype.list, []), 'http'),
      );
    }
    expect(s.processor.spans.map((span) => span.name).sort()).toEqual(['TeamsController.list', 'UsersController.list']);
  });

  it('starts inside the interceptors, and lasts as long as an Observable the method returned', async () => {
    const s = setup('all');
    const instance = new ArticlesController();
    let activeInObservable: Span | undefined;
    const callback = () =>
      defer(async () => {
        activeInObservable = getSpan(agentContext.active());
        return 'late';
      }).pipe(map((value) => value.toUpperCase()));
    const interceptor: Interceptor = { intercept: (_context, next) => next.handle().pipe(map((value) => ({ wrapped: value }))) };
    const intercept = tracedIntercept(s.ctx, s.outcome)(interceptorsConsumer.intercept as never);
    const result = agentContext.with(s.serverContext, () =>
      intercept.call(interceptorsConsumer, [interceptor], [], instance, callback, nestNext(instance, callback, []), 'http'),
    );
    expect(await settleResult(s.serverContext, result)).toEqual({ wrapped: 'LATE' });
    const handler = byName(s.processor.spans, 'ArticlesController.callback');
    const span = byName(s.processor.spans, 'interceptor anonymous');
    expect(parentOf(handler)).toBe(idOf(span));
    expect(parentOf(span)).toBe(idOf(s.server));
    expect(idOf(activeInObservable!)).toBe(idOf(handler));
  });

  it('records a synchronous throw and a rejection, and passes both on as they are', async () => {
    const s = setup();
    const instance = new ArticlesController();
    const intercept = tracedIntercept(s.ctx, s.outcome)(interceptorsConsumer.intercept as never);
    const thrown = new TypeError('sync');
    const throwing = () => {
      throw thrown;
    };
    await expect(
      agentContext.with(s.serverContext, () => intercept.call(interceptorsConsumer, [], [], instance, throwing, throwing, 'http')),
    ).rejects.toBe(thrown);
    const rejected = new RangeError('async');
    const rejecting = async () => {
      throw rejected;
    };
    await expect(
      agentContext.with(s.serverContext, () => intercept.call(interceptorsConsumer, [], [], instance, rejecting, rejecting, 'http')),
    ).rejects.toBe(rejected);
    expect(s.processor.spans.map((span) => span.status)).toEqual([
      { code: 2, message: 'sync' },
      { code: 2, message: 'async' },
    ]);
  });

  it('leaves Nest’s next as it is outside a request, below an unsampled server span, and for an odd call', async () => {
    const received: unknown[] = [];
    const original = function (this: unknown, ...args: unknown[]) {
      received.push(args[4]);
      return 'original';
    };
    const next = async () => 'value';
    const sampled = setup();
    const intercept = tracedIntercept(sampled.ctx, sampled.outcome)(original as never);
    expect(intercept.call(undefined, [], [], {}, () => undefined, next, 'http')).toBe('original');
    const unsampled = setup('handler', { sampled: false });
    agentContext.with(unsampled.serverContext, () =>
      tracedIntercept(unsampled.ctx, unsampled.outcome)(original as never).call(undefined, [], [], {}, () => undefined, next),
    );
    // No callback, no next: not a call Nest makes.
    agentContext.with(sampled.serverContext, () => intercept.call(undefined, [], [], {}, undefined, next));
    agentContext.with(sampled.serverContext, () => intercept.call(undefined, [], [], {}, () => undefined, 'not a function'));
    expect(received).toEqual([next, next, next, 'not a function']);
    expect(sampled.processor.spans.filter((span) => span.name !== 'server')).toEqual([]);
  });

  it('runs the handler as usual when the agent’s own work fails, and reports it', async () => {
    const broken = (tracer: Tracer): Tracer =>
      ({
        startSpan: () => {
          throw new Error('tracer broken');
        },
        startActiveSpan: tracer.startActiveSpan.bind(tracer),
      }) as Tracer;
    const s = setup('handler', { tracer: broken });
    const instance = new ArticlesController();
    const intercept = tracedIntercept(s.ctx, s.outcome)(interceptorsConsumer.intercept as never);
    const callback = ArticlesController.prototype.findOne as Fn;
    const result = (await agentContext.with(s.serverContext, () =>
      intercept.call(interceptorsConsumer, [], [], instance, callback, nestNext(instance, callback, ['9']), 'http'),
    )) as { id: string };
    expect(result.id).toBe('9');
    expect(s.errors.map((error) => (error as Error).message)).toEqual(['tracer broken']);
  });
});

describe('NestJS guard, interceptor and pipe spans (all)', () => {
  it('make a span per guard, calling it with itself as `this`, each ending with its answer', async () => {
    const s = setup('all');
    class AuthGuard {
      readonly allow = true;
      canActivate() {
        return timer(5).pipe(map(() => this.allow));
      }
    }
    class RolesGuard {
      async canActivate() {
        return getSpan(agentContext.active()) !== undefined;
      }
    }
    const refusing = {
      canActivate: () => false,
    };
    const guards = [new AuthGuard(), new RolesGuard()];
    const lists: unknown[] = [];
    const tryActivate = tracedConsumer(
      0,
      tracedGuards,
      s.ctx,
      s.outcome,
    )(function (this: unknown, list: unknown) {
      lists.push(list);
      return Reflect.apply(guardsConsumer.tryActivate, this, arguments);
    });
    expect(await agentContext.with(s.serverContext, () => tryActivate.call(guardsConsumer, guards))).toBe(true);
    expect(await agentContext.with(s.serverContext, () => tryActivate.call(guardsConsumer, guards))).toBe(true);
    expect(await agentContext.with(s.serverContext, () => tryActivate.call(guardsConsumer, [refusing]))).toBe(false);
    // Stand-ins made once per list: the consumer gets the same list request after request.
    expect(lists[0]).not.toBe(guards);
    expect(lists[1]).toBe(lists[0]);
    const auth = s.processor.spans.filter((span) => span.name === 'guard AuthGuard');
    expect(auth).toHaveLength(2);
    expect(auth[0]!.attributes).toEqual({ 'nestjs.type': 'guard', 'code.function.name': 'canActivate' });
    expect(auth[0]!.endTime - auth[0]!.startTime).toBeGreaterThanOrEqual(4);
    expect(parentOf(auth[0]!)).toBe(idOf(s.server));
    expect(s.processor.spans.filter((span) => span.name === 'guard RolesGuard')).toHaveLength(2);
    expect(byName(s.processor.spans, 'guard anonymous').status.code).toBe(0);
  });

  it('cover the Observable a guard’s promise gives, as NestJS 11 reads it', async () => {
    const s = setup('all');
    class TokenGuard {
      async canActivate() {
        return timer(5).pipe(map(() => true));
      }
    }
    const tryActivate = tracedConsumer(0, tracedGuards, s.ctx, s.outcome)(guardsConsumer11.tryActivate as never);
    expect(await agentContext.with(s.serverContext, () => tryActivate.call(guardsConsumer11, [new TokenGuard()]))).toBe(true);
    const guard = byName(s.processor.spans, 'guard TokenGuard');
    expect(guard.endTime - guard.startTime).toBeGreaterThanOrEqual(4);
  });

  it('record a guard’s exception on its span and pass it on', async () => {
    const s = setup('all');
    const refused = new Error('token revoked');
    class AuthGuard {
      canActivate() {
        throw refused;
      }
    }
    const tryActivate = tracedConsumer(0, tracedGuards, s.ctx, s.outcome)(guardsConsumer.tryActivate as never);
    await expect(agentContext.with(s.serverContext, () => tryActivate.call(guardsConsumer, [new AuthGuard()]))).rejects.toBe(refused);
    expect(byName(s.processor.spans, 'guard AuthGuard').status).toEqual({ code: 2, message: 'token revoked' });
  });

  it('cover an interceptor’s promise of an Observable; pass on what is not an Observable as it is', async () => {
    const s = setup('all');
    class CacheInterceptor {
      async intercept(_context: unknown, next: { handle(): Observable<unknown> }) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        return next.handle().pipe(map((value) => `cached ${String(value)}`));
      }
    }
    const instance = new ArticlesController();
    const callback = () => 'fresh';
    const intercept = tracedIntercept(s.ctx, s.outcome)(interceptorsConsumer.intercept as never);
    const result = agentContext.with(s.serverContext, () =>
      intercept.call(interceptorsConsumer, [new CacheInterceptor()], [], instance, callback, nestNext(instance, callback, []), 'http'),
    );
    expect(await settleResult(s.serverContext, result)).toBe('cached fresh');
    const interceptor = byName(s.processor.spans, 'interceptor CacheInterceptor');
    expect(parentOf(byName(s.processor.spans, 'ArticlesController.callback'))).toBe(idOf(interceptor));

    // Nest fails on a value that is no Observable, as it would without the agent.
    const odd = { intercept: () => 42 };
    const oddResult = agentContext.with(s.serverContext, () =>
      intercept.call(interceptorsConsumer, [odd], [], instance, callback, nestNext(instance, callback, []), 'http'),
    );
    await expect(settleResult(s.serverContext, oddResult)).rejects.toThrow(/stream/);
    expect(byName(s.processor.spans, 'interceptor anonymous').status.code).toBe(0);
  });

  it('make a span per pipe, handing the handler what each pipe returned, whatever it is', async () => {
    const s = setup('all');
    const observable = of(1);
    class ParseIntPipe {
      transform(value: unknown) {
        return Number(value);
      }
    }
    class ToObservablePipe {
      async transform() {
        return observable;
      }
    }
    const applyPipes = tracedConsumer(2, tracedPipes, s.ctx, s.outcome)(pipesConsumer.applyPipes as never);
    expect(await agentContext.with(s.serverContext, () => applyPipes.call(pipesConsumer, '12', {}, [new ParseIntPipe()]))).toBe(12);
    expect(
      await agentContext.with(s.serverContext, () => applyPipes.call(pipesConsumer, '12', {}, [new ParseIntPipe(), new ToObservablePipe()])),
    ).toBe(observable);
    expect(s.processor.spans.filter((span) => span.name === 'pipe ParseIntPipe')).toHaveLength(2);
    expect(byName(s.processor.spans, 'pipe ToObservablePipe').attributes).toEqual({ 'nestjs.type': 'pipe', 'code.function.name': 'transform' });
  });

  it('hand over the enhancers themselves below an unsampled span, and anything that is not one as it is', async () => {
    const unsampled = setup('all', { sampled: false });
    const guards = [{ canActivate: () => true }];
    expect(tracedGuards(guards, unsampled.serverContext, unsampled.ctx, unsampled.outcome)).toBe(guards);
    const s = setup('all');
    const odd = [null, 'x', { noCanActivate: true }];
    expect(tracedGuards(odd, s.serverContext, s.ctx, s.outcome)).toEqual(odd);
    expect(tracedGuards('not a list', s.serverContext, s.ctx, s.outcome)).toBe('not a list');
    expect(tracedPipes([], s.serverContext, s.ctx, s.outcome)).toEqual([]);
  });

  it('read an enhancer’s method at each call', async () => {
    const s = setup('all');
    const guard = { canActivate: () => false };
    const [standIn] = tracedGuards([guard], s.serverContext, s.ctx, s.outcome) as Array<{ canActivate(): unknown }>;
    guard.canActivate = () => true;
    expect(agentContext.with(s.serverContext, () => standIn!.canActivate())).toBe(true);
  });

  it('name an enhancer after its class, briefly', () => {
    expect(enhancerName(new (class AuthGuard {})())).toBe('AuthGuard');
    expect(enhancerName({})).toBe('anonymous');
    expect(enhancerName(Object.create(null) as object)).toBe('anonymous');
  });
});

describe('NestJS failures', () => {
  it('are recorded on the span where they happened, not again on the spans they pass through, in each request', () => {
    const first = setup();
    const second = setup();
    const failure = new Error('shared');
    const spans = [first, first, second].map(({ ctx, serverContext }) => {
      const span = ctx.tracer.startSpan('step', {}, serverContext);
      return { span, serverContext };
    });
    for (const { span, serverContext } of spans) endFailed(first.outcome, span, serverContext, failure);
    const ended = [...first.processor.spans, ...second.processor.spans].filter((span) => span.name === 'step');
    expect(ended.map((span) => span.status.code).sort()).toEqual([0, 2, 2]);
  });
});

describe('NestJS patches', () => {
  const patchOf = (file: string) => nestjsInstrumentation.patches!.find((patch) => patch.file === file) as ModulePatch<FrameworkSettings>;
  const target = { module: '@nestjs/core', version: '10.4.22', viaImport: false };

  it('mark every route handler Nest registers as traced above, and nothing else the factory serves', () => {
    const s = setup();
    const registered: unknown[] = [];
    const router = {
      get(path: string, handler: Fn) {
        registered.push([path, handler]);
      },
    };
    class RouterMethodFactory {
      get(target: Record<string, Fn>, method: string) {
        return target[method];
      }
    }
    class RouterExplorer {
      routerMethodFactory = new RouterMethodFactory();
      applyCallbackToRouter(handler: Fn) {
        this.routerMethodFactory.get(router as never, 'get').bind(router)('/api/articles/:id', handler);
        return 'applied';
      }
    }
    patchOf('router/router-explorer.js').patch({ RouterExplorer }, s.ctx, target);
    const handler = () => undefined;
    expect(new RouterExplorer().applyCallbackToRouter(handler)).toBe('applied');
    expect(registered).toEqual([['/api/articles/:id', handler]]);
    expect(isTracedAbove(handler)).toBe(true);
    // The adapter's own factory (middleware) is another instance: left alone.
    const middleware = () => undefined;
    new RouterMethodFactory().get(router as never, 'get').call(router, '/mw', middleware);
    expect(isTracedAbove(middleware)).toBe(false);
  });

  it('carry the mark over to the function Nest 11’s Fastify adapter registers around a handler', () => {
    const s = setup();
    class FastifyAdapter {
      requireNonEmptyParams(url: string, handler: Fn) {
        return url.includes(':') ? (...args: unknown[]) => handler(...args) : handler;
      }
    }
    patchOf('adapters/fastify-adapter.js').patch({ FastifyAdapter }, s.ctx, { ...target, module: '@nestjs/platform-fastify' });
    const handler = () => undefined;
    markTracedAbove(handler);
    expect(isTracedAbove(new FastifyAdapter().requireNonEmptyParams('/a/:id', handler))).toBe(true);
    expect(new FastifyAdapter().requireNonEmptyParams('/a', handler)).toBe(handler);
    const unmarked = () => undefined;
    expect(isTracedAbove(new FastifyAdapter().requireNonEmptyParams('/a/:id', unmarked))).toBe(false);
    // Nest 10's adapter has no such method: nothing to patch.
    expect(() => patchOf('adapters/fastify-adapter.js').patch({ FastifyAdapter: class {} }, s.ctx, target)).not.toThrow();
  });

  it('give the server request the type of an exception on its way to the exception filters', () => {
    const s = setup();
    const seen: unknown[] = [];
    class ExceptionsHandler {
      next(exception: unknown, host: unknown) {
        seen.push([exception, host]);
      }
    }
    patchOf('exceptions/exceptions-handler.js').patch({ ExceptionsHandler }, s.ctx, target);
    const failure = new TypeError('bad');
    agentContext.with(s.serverContext, () => new ExceptionsHandler().next(failure, 'host'));
    expect(seen).toEqual([[failure, 'host']]);
    expect(s.request.errorType).toBe('TypeError');
    // Outside a request: nothing to note.
    expect(() => new ExceptionsHandler().next(failure, 'host')).not.toThrow();
  });

  it('wrap the router’s consumers, once, when Nest creates a route’s execution context; with `route`, nothing', () => {
    for (const spans of ['handler', 'all', 'route'] as const) {
      const s = setup(spans);
      const consumers = {
        interceptorsConsumer: { intercept: () => undefined },
        guardsConsumer: { tryActivate: () => undefined },
        pipesConsumer: { applyPipes: () => undefined },
      };
      const { interceptorsConsumer, guardsConsumer, pipesConsumer } = consumers;
      const originals = [interceptorsConsumer.intercept, guardsConsumer.tryActivate, pipesConsumer.applyPipes];
      class RouterExecutionContext {
        interceptorsConsumer = interceptorsConsumer;
        guardsConsumer = guardsConsumer;
        pipesConsumer = pipesConsumer;
        create(_instance: unknown, _callback: unknown, _methodName: string) {
          return 'handle';
        }
      }
      patchOf('router/router-execution-context.js').patch({ RouterExecutionContext }, s.ctx, target);
      const routerContext = new RouterExecutionContext();
      expect(routerContext.create(new ArticlesController(), ArticlesController.prototype.findOne, 'findOne')).toBe('handle');
      const wrappedOnce = interceptorsConsumer.intercept;
      routerContext.create(new ArticlesController(), ArticlesController.prototype.findOne, 'findOne');
      expect(interceptorsConsumer.intercept).toBe(wrappedOnce);
      const changed = [interceptorsConsumer.intercept, guardsConsumer.tryActivate, pipesConsumer.applyPipes].map((fn, i) => fn !== originals[i]);
      expect({ spans, changed }).toEqual({
        spans,
        changed: spans === 'route' ? [false, false, false] : spans === 'all' ? [true, true, true] : [true, false, false],
      });
    }
  });
});
