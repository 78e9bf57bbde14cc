/**
 * node:http and node:https: a SERVER span for every request a server receives and a CLIENT span
 * for every request made with request()/get(), with trace context extracted from and injected
 * into the headers.
 *
 * Why patch instead of subscribing to Node's `http.*` diagnostics channels: on Node 18/20 those
 * fire too late to inject headers into an outgoing request, and a plain publish cannot make the
 * server span the active context of the handler. What is patched, once per process:
 * - http.Server.prototype.emit and https.Server.prototype.emit ('request', 'checkContinue');
 * - request() and get() of both modules;
 * - emit() of IncomingMessage, ServerResponse and ClientRequest, so that every listener of a
 *   traced request runs in its context and spans end on 'finish'/'close'/'end'/'error' without
 *   the agent adding listeners (see emit.ts).
 *
 * Supported: every Node version the agent supports (the modules are builtins).
 * Limitations: `new http.ClientRequest(...)` called directly (not through request/get) is not
 * traced; 'upgrade' (WebSocket) requests get no server span; HTTP/2 (node:http2) is not
 * instrumented; http.request.resend_count is never set (Node's http client does not redirect).
 * A client span's network.peer.* comes from its socket once connected (a 'connect' listener on a
 * new socket of a recorded request, nothing on a reused one): a request that fails before
 * connecting has none, and one over a Unix domain socket reports the socket path alone.
 */
import type * as http from 'node:http';
import type { Instrumentation, InstrumentationContext } from '../../src/instrumentation/types';
import { unwrap } from '../../src/instrumentation/wrap';
import { patchClient } from './client';
import { patchEmit } from './emit';
import { patchServer } from './server';
import { readHttpSettings, type HttpSettings } from './settings';

type HttpModule = typeof http;

/** Request and response classes are shared by http and https: their emit is wrapped once. */
function patchMessages(module: HttpModule, ctx: InstrumentationContext<HttpSettings>): void {
  patchEmit(module.IncomingMessage.prototype, ctx);
  patchEmit(module.ServerResponse.prototype, ctx);
  patchEmit(module.ClientRequest.prototype, ctx);
}

function unpatchModule(module: HttpModule): void {
  unwrap(module.Server.prototype as unknown as { emit: unknown }, 'emit');
  unwrap(module as unknown as { request: unknown }, 'request');
  unwrap(module as unknown as { get: unknown }, 'get');
}

export const httpInstrumentation: Instrumentation<HttpSettings> = {
  name: 'http',
  readSettings: readHttpSettings,
  patches: [
    {
      module: 'http',
      versions: '*',
      patch(exports: HttpModule, ctx) {
        patchMessages(exports, ctx);
        patchServer(exports.Server.prototype, 'http', ctx);
        patchClient(exports as never, 'http', ctx);
      },
      unpatch: unpatchModule,
    },
    {
      module: 'https',
      versions: '*',
      patch(exports: typeof import('node:https'), ctx) {
        // https serves its requests with http's classes, which need the wrapper even in an
        // application that never loads http itself.
        patchMessages(require('node:http') as HttpModule, ctx);
        patchServer(exports.Server.prototype as never, 'https', ctx);
        patchClient(exports as never, 'https', ctx);
      },
      unpatch: unpatchModule as never,
    },
  ],
};
