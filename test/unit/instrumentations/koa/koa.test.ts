import type { Span, Tracer } from '@opentelemetry/api';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { koaInstrumentation } from '../../../../instrumentations/koa';
import { applicationClassOf } from '../../../../instrumentations/koa/application';
import { isTracedDispatch, routerClassOf } from '../../../../instrumentations/koa/router';
import { agentContext } from '../../../../src/api/active';
import { ROOT_CONTEXT } from '../../../../src/api/context';
import { getSpan, setSpan, SpanKind } from '../../../../src/api/trace';
import type { FrameworkSpans } from '../../../../src/instrumentation/framework';
import { withServerRequest, type ServerRequest } from '../../../../src/instrumentation/http-server-request';
import { createSampler } from '../../../../src/trace/sampler';
import type { ReadableSpan } from '../../../../src/trace/types';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { send } from '../../../helpers/http-client';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext } from '../../../helpers/instrumentation-context';

/**
 * The Koa instrumentation in process, on the real Koa 3 / @koa/router 13 and Koa 2 / @koa/router
 * 12 (fresh copies per test, patched as the agent patches them), behind a server that plays the
 * http instrumentation's part: a server span and its ServerRequest active while Koa handles the
 * request, the framework's leftover spans ended with the response.
 */

const require = createRequire(import.meta.url);

beforeAll(() => {
  installContextManager();
});
afterAll(() => removeContextManager());

type Middleware = (ctx: KoaContext, next: () => Promise<unknown>) => unknown;

interface KoaContext {
  body: unknown;
  status: number;
  respond: boolean;
  params: Record<string, string>;
  state: Record<string, unknown>;
  res: { end(body: string): void };
  throw(status: number, message: string): never;
}

interface KoaApp {
  middleware: Middleware[];
  use(fn: unknown): KoaApp;
  callback(): (req: unknown, res: unknown) => unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  silent: boolean;
}

interface Layer {
  path: unknown;
  stack: unknown[];
}

interface KoaRouter {
  stack: Layer[];
  use(...args: unknown[]): KoaRouter;
  get(path: unknown, ...middleware: unknown[]): KoaRouter;
  param(name: string, fn: unknown): KoaRouter;
  prefix(prefix: string): KoaRouter;
  routes(): Middleware & { router?: unknown };
  middleware(): Middleware & { router?: unknown };
  match(path: string, method: string): { pathAndMethod: Layer[]; route: boolean };
}

type KoaClass = new () => KoaApp;
type RouterClass = new (options?: Record<string, unknown>) => KoaRouter;

const PACKAGES = {
  3: { koa: 'koa-v3', router: 'koa-router-v13' },
  2: { koa: 'koa-v2', router: 'koa-router-v12' },
} as const;

interface Setup {
  readonly Koa: KoaClass;
  readonly Router: RouterClass;
  readonly ctx: ReturnType<typeof instrumentationContext<{ spans: FrameworkSpans }>>;
  readonly errors: unknown[];
  readonly spans: ReadableSpan[];
  readonly tracer: Tracer;
}

/** Fresh copies of Koa and @koa/router, patched by every patch of the instrumentation that applies. */
function load(spans: FrameworkSpans = 'handler', options: { major?: 2 | 3; tracer?: (tracer: Tracer) => Tracer; sampled?: boolean } = {}): Setup {
  const packages = PACKAGES[options.major ?? 3];
  for (const key of Object.keys(require.cache)) {
    if (key.includes(`/node_modules/${packages.koa}/`) || key.includes(`/node_modules/${packages.router}/`)) delete require.cache[key];
  }
  const { tracer: real, processor } = testProvider(options.sampled === false ? { sampler: createSampler('always_off', 1) } : {});
  const tracer = options.tracer === undefined ? real : options.tracer(real);
  const errors: unknown[] = [];
  const ctx = instrumentationContext(koaInstrumentation, tracer, { OTEL_INSTRUMENTATION_KOA_SPANS: spans }, { errors });
  const Koa = require(packages.koa) as KoaClass;
  const Router = require(packages.router) as RouterClass;
  const exports: Record<string, unknown> = { koa: Koa, 'koa lib/context.js': require(`${packages.koa}/lib/context.js`), '@koa/router': Router };
  for (const patch of koaInstrumentation.patches!) {
    const target = exports[patch.file === undefined ? patch.module : `${patch.module} ${patch.file}`];
    if (target !== undefined) patch.patch(target, ctx, { module: patch.module, version: '3.0.0', viaImport: false });
  }
  return { Koa, Router, ctx, errors, spans: processor.spans as ReadableSpan[], tracer: real };
}

interface Served {
  readonly url: string;
  /** The server request of each request served, by its url. */
  readonly requests: Map<string, ServerRequest>;
  readonly servers: Map<string, Span>;
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** Serves the app as the http instrumentation would: a server span per request, active while Koa handles it. */
async function serve(app: KoaApp, setup: Setup, options: { serverSpan?: boolean } = {}): Promise<Served> {
  const handle = app.callback();
  const requests = new Map<string, ServerRequest>();
  const spansByUrl = new Map<string, Span>();
  const server = createServer((req, res) => {
    if (options.serverSpan === false) return handle(req, res);
    const span = setup.tracer.startSpan(`server ${req.url}`, { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    const request: ServerRequest = { span, method: req.method!, route: undefined, errorType: undefined, spansEndingWithResponse: undefined };
    requests.set(req.url!, request);
    spansByUrl.set(req.url!, span);
    res.on('finish', () => {
      for (const leftover of request.spansEndingWithResponse ?? []) if (leftover.isRecording()) leftover.end();
      span.end();
    });
    return agentContext.with(withServerRequest(setSpan(ROOT_CONTEXT, span), request), () => handle(req, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, servers: spansByUrl };
}

const byName = (spans: readonly ReadableSpan[], name: string): ReadableSpan => {
  const found = spans.filter((s) => s.name === name);
  expect(found, `one span named ${name} in ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1);
  return found[0]!;
};
const idOf = (span: ReadableSpan | Span) => span.spanContext().spanId;
/** Spans end after the response is sent: a turn of the event loop later. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('Koa instrumentation: what the application sees', () => {
  it('leaves app.middleware and the routers as they are without `all`', () => {
    const { Koa, Router } = load('handler');
    const app = new Koa();
    const router = new Router();
    async function logger(_ctx: KoaContext, next: () => Promise<unknown>) {
      await next();
    }
    app.use(logger);
    const routes = router.routes();
    app.use(routes);
    expect(app.middleware[0]).toBe(logger);
    expect(app.middleware[1]).toBe(routes);
    // The dispatch is traced, and looks like @koa/router's: its name, its length, its router.
    expect(isTracedDispatch(routes)).toBe(true);
    expect([routes.name, routes.length, routes.router]).toEqual(['dispatch', 2, router]);
  });

  it('with `all`, replaces each middleware app.use added by a wrapper of the same name and length, once', () => {
    const { Koa, Router } = load('all');
    const app = new Koa();
    async function logger(_ctx: KoaContext, next: () => Promise<unknown>) {
      await next();
    }
    app.use(logger);
    app.use(app.middleware[0]);
    const routes = new Router().routes();
    app.use(routes);
    expect(app.middleware[0]).not.toBe(logger);
    expect([app.middleware[0]!.name, app.middleware[0]!.length]).toEqual(['logger', 2]);
    // Re-added wrappers and router dispatches are not wrapped again.
    expect(app.middleware[1]).toBe(app.middleware[0]);
    expect(app.middleware[2]).toBe(routes);
    // Koa's own validation is untouched.
    expect(() => app.use('not a function')).toThrow(TypeError);
  });

  it("gives router.match called by the application the router's own layers", async () => {
    const setup = load('all');
    const app = new setup.Koa();
    const router = new setup.Router();
    let seenInHandler: unknown;
    router.get('/users/:id', (ctx: KoaContext) => {
      seenInHandler = router.match('/users/1', 'GET').pathAndMethod[0];
      ctx.body = 'ok';
    });
    app.use(router.routes());
    const served = await serve(app, setup);
    expect((await send(`${served.url}/users/1`)).body).toBe('ok');
    expect(seenInHandler).toBe(router.stack[0]);
    expect(router.match('/users/1', 'GET').pathAndMethod[0]).toBe(router.stack[0]);
    expect(Object.getOwnPropertySymbols(router.stack[0]!).filter((key) => Object.prototype.propertyIsEnumerable.call(router.stack[0], key))).toEqual(
      [],
    );
  });
});

for (const major of [3, 2] as const) {
  describe(`Koa ${major} routes and spans`, () => {
    it('names the route when its stack runs, with router.param and router.prefix applied after requests', async () => {
      const setup = load('handler', { major });
      const app = new setup.Koa();
      const router = new setup.Router();
      let activeInParam: unknown;
      router.get('/users/:id', function getUser(ctx: KoaContext) {
        ctx.body = { id: ctx.params.id, seen: ctx.state.seen };
      });
      app.use(router.routes());
      const served = await serve(app, setup);
      expect((await send(`${served.url}/users/1`)).body).toBe('{"id":"1"}');
      expect(served.requests.get('/users/1')!.route).toBe('/users/:id');

      router.param('id', (id: string, ctx: KoaContext, next: () => Promise<unknown>) => {
        activeInParam = getSpan(agentContext.active());
        ctx.state.seen = id;
        return next();
      });
      router.prefix('/v2');
      expect((await send(`${served.url}/v2/users/2`)).body).toBe('{"id":"2","seen":"2"}');
      await settled();
      expect(served.requests.get('/v2/users/2')!.route).toBe('/v2/users/:id');
      const handler = byName(setup.spans, 'handler /v2/users/:id');
      // The param hook now leads the route's stack: it runs inside the handler span.
      expect(activeInParam).toBeDefined();
      expect(idOf(activeInParam as Span)).toBe(idOf(handler));
      expect(handler.attributes).toEqual({ 'koa.type': 'request_handler', 'http.route': '/v2/users/:id', 'code.function.name': 'getUser' });
      expect(setup.errors).toEqual([]);
    });

    it('names array paths, regular expressions, exclusive routers and a router mounted twice by the layer that ran', async () => {
      const setup = load('handler', { major });
      const app = new setup.Koa();
      const inner = new setup.Router();
      inner.get('/items/:id', (ctx: KoaContext) => {
        ctx.body = 'item';
      });
      const outer = new setup.Router({ exclusive: true });
      outer.get(['/a', '/b'], (ctx: KoaContext) => {
        ctx.body = 'ab';
      });
      outer.get(/^\/numbers\/(\d+)$/, (ctx: KoaContext) => {
        ctx.body = 'number';
      });
      outer.get('/x/:any', (ctx: KoaContext) => {
        ctx.body = 'any';
      });
      outer.get('/x/last', (ctx: KoaContext) => {
        ctx.body = 'last';
      });
      outer.use('/nested', inner.routes());
      app.use(outer.routes());
      app.use(inner.routes());
      const served = await serve(app, setup);
      for (const [path, body, route] of [
        ['/a', 'ab', '/a'],
        ['/b', 'ab', '/b'],
        ['/numbers/42', 'number', String(/^\/numbers\/(\d+)$/)],
        ['/x/last', 'last', '/x/last'],
        ['/nested/items/1', 'item', '/nested/items/:id'],
        ['/items/2', 'item', '/items/:id'],
      ]) {
        expect({ path, body: (await send(`${served.url}${path}`)).body }).toEqual({ path, body });
        expect({ path, route: served.requests.get(path)!.route }).toEqual({ path, route });
      }
      expect(setup.errors).toEqual([]);
    });

    it('with `all`: a sync throw and a non-Error rejection are recorded where they happened and passed on to Koa unchanged', async () => {
      const setup = load('all', { major });
      const app = new setup.Koa();
      app.silent = true;
      const koaErrors: unknown[] = [];
      app.on('error', (error) => koaErrors.push(error));
      const router = new setup.Router();
      app.use(function outer(_ctx: KoaContext, next: () => Promise<unknown>) {
        return next();
      });
      app.use(function syncThrower(ctx: KoaContext, next: () => Promise<unknown>) {
        if (ctx.state && (ctx as unknown as { path: string }).path === '/sync') throw new SyntaxError('sync');
        return next();
      });
      router.get('/string', () => Promise.reject(new Error('wrapped')).catch(() => Promise.reject('nope')));
      app.use(router.routes());
      const served = await serve(app, setup);
      expect(await send(`${served.url}/sync`)).toMatchObject({ status: 500, body: 'Internal Server Error' });
      expect((await send(`${served.url}/string`)).status).toBe(500);
      await settled();
      expect(setup.spans.filter((s) => s.name === 'middleware syncThrower').map((s) => s.status)).toEqual([
        { code: 2, message: 'sync' },
        { code: 0, message: undefined },
      ]);
      expect(setup.spans.filter((s) => s.name === 'middleware outer').map((s) => s.status.code)).toEqual([0, 0]);
      const handler = byName(setup.spans, 'handler /string');
      expect(handler.status).toEqual({ code: 2, message: 'nope' });
      expect(handler.events).toEqual([]);
      expect(served.requests.get('/sync')!.errorType).toBe('SyntaxError');
      // Koa's own handling: the same errors reach its 'error' event (a non-Error wrapped by Koa as ever).
      expect(koaErrors).toHaveLength(2);
      expect((koaErrors[0] as Error).message).toBe('sync');
      expect(String((koaErrors[1] as Error).message)).toContain('nope');
      expect(setup.errors).toEqual([]);
    });
  });
}

describe('Koa instrumentation: spans that must end, contexts that were lost', () => {
  it('ends the span of a middleware that answered on the raw response and never settles, with the response', async () => {
    const setup = load('all');
    const app = new setup.Koa();
    app.use(function raw(ctx: KoaContext) {
      ctx.respond = false;
      ctx.res.end('raw');
      return new Promise(() => {});
    });
    const served = await serve(app, setup);
    expect((await send(`${served.url}/raw`)).body).toBe('raw');
    await settled();
    const span = byName(setup.spans, 'middleware raw');
    expect(span.status.code).toBe(0);
    expect(span.parentSpanId).toBe(idOf(served.servers.get('/raw')!));
  });

  it('calls the then of a thenable a middleware returns once, as Koa alone would, and ends the span with it', async () => {
    const setup = load('all');
    const app = new setup.Koa();
    let thenCalls = 0;
    app.use(function builder(ctx: KoaContext) {
      ctx.body = 'built';
      // A query builder: its work runs when `then` is called.
      return {
        then(resolve: (value: unknown) => void) {
          thenCalls++;
          setTimeout(() => resolve('rows'), 5);
        },
      };
    });
    const served = await serve(app, setup);
    expect((await send(`${served.url}/built`)).body).toBe('built');
    await settled();
    expect(thenCalls).toBe(1);
    expect(byName(setup.spans, 'middleware builder').status.code).toBe(0);
  });

  it('parents a middleware whose next was called from a context that lost the request to the server span', async () => {
    const setup = load('all');
    const app = new setup.Koa();
    app.use(function detaches(_ctx: KoaContext, next: () => Promise<unknown>) {
      return agentContext.with(ROOT_CONTEXT, () => next());
    });
    app.use(function downstream(ctx: KoaContext) {
      ctx.body = 'ok';
    });
    const served = await serve(app, setup);
    expect((await send(`${served.url}/`)).body).toBe('ok');
    await settled();
    const server = served.servers.get('/')!;
    expect(byName(setup.spans, 'middleware downstream').parentSpanId).toBe(idOf(server));
    expect(byName(setup.spans, 'middleware downstream').spanContext().traceId).toBe(server.spanContext().traceId);
  });
});

describe('Koa instrumentation: stepping aside', () => {
  it('makes no span and names no route for a request without a server span (the http instrumentation off)', async () => {
    const setup = load('all');
    const app = new setup.Koa();
    const router = new setup.Router();
    router.get('/users/:id', (ctx: KoaContext) => {
      ctx.body = 'ok';
    });
    app.use(function mw(_ctx: KoaContext, next: () => Promise<unknown>) {
      return next();
    });
    app.use(router.routes());
    const served = await serve(app, setup, { serverSpan: false });
    expect((await send(`${served.url}/users/1`)).body).toBe('ok');
    await settled();
    expect(setup.spans).toEqual([]);
  });

  it('runs an unsampled request with no span of its own, its handler in the server span, its route named', async () => {
    const setup = load('all', { sampled: false });
    const app = new setup.Koa();
    const router = new setup.Router();
    let active: unknown;
    router.get('/users/:id', (ctx: KoaContext) => {
      active = getSpan(agentContext.active());
      ctx.body = 'ok';
    });
    app.use(function mw(_ctx: KoaContext, next: () => Promise<unknown>) {
      return next();
    });
    app.use(router.routes());
    const served = await serve(app, setup);
    expect((await send(`${served.url}/users/1`)).body).toBe('ok');
    expect(active).toBe(served.servers.get('/users/1'));
    expect(served.requests.get('/users/1')!.route).toBe('/users/:id');
  });

  it("reports its own failures, never the application's way: a tracer that throws leaves every request answered", async () => {
    const setup = load('all', {
      tracer: (real) => ({
        startSpan: () => {
          throw new Error('tracer broke');
        },
        startActiveSpan: real.startActiveSpan.bind(real),
      }),
    });
    const app = new setup.Koa();
    const router = new setup.Router();
    router.get('/users/:id', (ctx: KoaContext) => {
      ctx.body = `user ${ctx.params.id}`;
    });
    app.use(function mw(_ctx: KoaContext, next: () => Promise<unknown>) {
      return next();
    });
    app.use(router.routes());
    const served = await serve(app, setup);
    for (let i = 0; i < 12; i++) expect((await send(`${served.url}/users/${i}`)).body).toBe(`user ${i}`);
    expect(setup.errors.length).toBeGreaterThanOrEqual(10);
    expect((setup.errors[0] as Error).message).toBe('tracer broke');
    // Switched off after the tenth: the later requests are left to Koa entirely (not even named).
    expect(setup.ctx.enabled).toBe(false);
    expect(served.requests.get('/users/11')!.route).toBeUndefined();
  });
});

describe('Koa instrumentation: a failure after a span started', () => {
  it('ends the span it could not dress, and runs the middleware, router and handler as they are', async () => {
    const setup = load('all', {
      tracer: (real) => ({
        startSpan: (...args: Parameters<Tracer['startSpan']>) => {
          const span = real.startSpan(...args);
          span.setAttribute = () => {
            throw new Error('attributes broke');
          };
          return span;
        },
        startActiveSpan: real.startActiveSpan.bind(real),
      }),
    });
    const app = new setup.Koa();
    const router = new setup.Router();
    router.get('/users/:id', function getUser(ctx: KoaContext) {
      ctx.body = `user ${ctx.params.id}`;
    });
    app.use(function mw(_ctx: KoaContext, next: () => Promise<unknown>) {
      return next();
    });
    app.use(router.routes());
    const served = await serve(app, setup);
    expect((await send(`${served.url}/users/1`)).body).toBe('user 1');
    await settled();
    // The middleware's, the router's and the handler's spans all ended (none left open), the server span too.
    expect(setup.spans.map((s) => s.name).sort()).toEqual(['GET /users/:id', 'handler /users/:id', 'middleware mw', 'router /'].sort());
    expect(setup.errors.map((e) => (e as Error).message)).toEqual(['attributes broke', 'attributes broke', 'attributes broke']);
  });
});

describe('Koa instrumentation: module shapes', () => {
  it('finds the classes in CommonJS exports and in ES module namespaces, and patches them once', () => {
    const { Koa, Router, ctx } = load('all');
    expect(applicationClassOf(Koa)).toBe(Koa);
    expect(applicationClassOf({ default: Koa, HttpError: Error })).toBe(Koa);
    expect(applicationClassOf({ default: {} })).toBeUndefined();
    expect(applicationClassOf(undefined)).toBeUndefined();
    expect(routerClassOf(Router)).toBe(Router);
    // @koa/router 15's ES module build: a default and a named export.
    expect(routerClassOf({ default: Router, Router })).toBe(Router);
    expect(routerClassOf({ Router })).toBe(Router);
    expect(routerClassOf({ default: () => undefined })).toBeUndefined();

    const prototype = (Koa as unknown as { prototype: Record<string, unknown> }).prototype;
    const wrapped = [prototype.createContext, prototype.use];
    const routerPrototype = (Router as unknown as { prototype: Record<string, unknown> }).prototype;
    const wrappedRouter = [routerPrototype.match, routerPrototype.middleware, routerPrototype.routes];
    for (const patch of koaInstrumentation.patches!) {
      if (patch.file !== undefined) continue;
      patch.patch({ default: patch.module === 'koa' ? Koa : Router }, ctx, { module: patch.module, version: '3.0.0', viaImport: true });
    }
    expect([prototype.createContext, prototype.use]).toEqual(wrapped);
    expect([routerPrototype.match, routerPrototype.middleware, routerPrototype.routes]).toEqual(wrappedRouter);
  });
});
