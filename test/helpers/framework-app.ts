import type { Server } from 'node:http';
import { join } from 'node:path';
import { makeAppDir, type AppDirOptions } from './app-dir';
import { expect } from 'vitest';
import { listen, send } from './http-client';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
import { onlyOne } from './received-spans';
import { startApp, type App, type Preload } from './run-app';
import { SERVER } from './span-kinds';

/**
 * The harness of the web framework tests: a fixture application started under the agent,
 * exporting to its own OTLP receiver and calling its own upstream service, and the lookups
 * its tests make in the spans received.
 */

/** The traceparent each upstream call arrived with, by the last segment of its path. */
export const upstreamTraceparents = new Map<string, string | undefined>();

export interface FrameworkApp {
  readonly app: App;
  readonly url: string;
  /** What the app printed after `listening <port> <framework>`: the installed version... */
  readonly banner: string[];
  readonly receiver: OtlpReceiver;
  readonly upstream: Server;
}

export interface FrameworkAppOptions {
  readonly script: string;
  readonly preload: Preload;
  /** The fixtures and packages of the app directory (the script is added to its fixtures). */
  readonly dir: AppDirOptions;
  /** The word the app prints after its port: `listening <port> <framework> ...`. */
  readonly framework: string;
  readonly env?: Record<string, string>;
}

export async function startFrameworkApp(options: FrameworkAppOptions): Promise<FrameworkApp> {
  const receiver = await OtlpReceiver.start();
  const upstream = await listen((req, res) => {
    const id = req.url?.split('/').pop() ?? '';
    upstreamTraceparents.set(id, req.headers.traceparent as string | undefined);
    res.end(`profile-${id}`);
  });
  const dir = makeAppDir({ ...options.dir, fixtures: [options.script, ...(options.dir.fixtures ?? [])] });
  const app = startApp({
    script: join(dir, options.script),
    cwd: dir,
    preload: options.preload,
    env: {
      OTEL_SERVICE_NAME: `${options.framework}-app`,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '50',
      UPSTREAM: upstream.url,
      ...options.env,
    },
  });
  const [, port, rest] = await app.waitFor(new RegExp(`listening (\\d+) ${options.framework} (.+)`));
  return { app, url: `http://127.0.0.1:${port}`, banner: rest!.trim().split(/\s+/), receiver, upstream: upstream.server };
}

export async function stopFrameworkApp(running: FrameworkApp | undefined): Promise<void> {
  if (running === undefined) return;
  await running.app.stop();
  running.upstream.close();
  await running.receiver.close();
}

/**
 * The spans of the trace whose server span has this url.path (and, if given, this status code),
 * once it has at least `minimum` of them.
 */
export function traceOf(running: FrameworkApp, path: string, minimum: number, status?: number): Promise<ReceivedSpan[]> {
  const complete = (spans: ReceivedSpan[]) => {
    const server = spans.find(
      (s) => s.kind === SERVER && s.attributes['url.path'] === path && (status === undefined || s.attributes['http.response.status_code'] === status),
    );
    if (server === undefined) return undefined;
    const trace = spans.filter((s) => s.traceId === server.traceId);
    return trace.length >= minimum ? trace : undefined;
  };
  const failure = () => `no complete trace for ${path}: ${JSON.stringify(running.receiver.spans.map((s) => s.name))}`;
  return running.receiver.waitUntil(complete, 10_000, failure);
}

/** The same, once nothing more of it can come (a short wait after `minimum` spans arrived). */
export async function settledTraceOf(running: FrameworkApp, path: string, minimum: number): Promise<ReceivedSpan[]> {
  const first = await traceOf(running, path, minimum);
  await new Promise((resolve) => setTimeout(resolve, 200));
  return running.receiver.spans.filter((s) => s.traceId === first[0]!.traceId);
}

export const serverOf = (trace: readonly ReceivedSpan[]): ReceivedSpan =>
  onlyOne(
    trace.filter((s) => s.kind === SERVER),
    'one server span',
  );

export const named = (trace: readonly ReceivedSpan[], name: string): ReceivedSpan =>
  onlyOne(
    trace.filter((s) => s.name === name),
    `one span named "${name}" in ${trace.map((s) => s.name).join(', ')}`,
  );

export type SendOptions = NonNullable<Parameters<typeof send>[1]>;
export type AppRequest = readonly [path: string, options: SendOptions];

/** Headers whose values differ between two runs of the same app: the clock's, a file's mtime, a measured time. */
const VARYING_HEADERS = new Set(['date', 'etag', 'last-modified', 'x-response-time']);

const comparable = (headers: Record<string, unknown>) => Object.fromEntries(Object.entries(headers).filter(([name]) => !VARYING_HEADERS.has(name)));

/**
 * Sends each request to the app under the agent and to the same app without it: the same status,
 * body (after `normalizeBody`, for what differs by the app's directory) and headers.
 */
export async function expectSameAnswers(
  traced: FrameworkApp,
  bare: FrameworkApp,
  requests: readonly AppRequest[],
  normalizeBody: (body: string) => string = (body) => body,
): Promise<void> {
  for (const [path, options] of requests) {
    const [a, b] = await Promise.all([send(`${traced.url}${path}`, options), send(`${bare.url}${path}`, options)]);
    const what = `${options.method ?? 'GET'} ${path} ${JSON.stringify(options.headers ?? {})}`;
    expect({ what, status: a.status, body: normalizeBody(a.body), headers: comparable(a.headers) }).toEqual({
      what,
      status: b.status,
      body: normalizeBody(b.body),
      headers: comparable(b.headers),
    });
  }
}

/**
 * What an unsampled trace left with the receiver: only what the default keep rule
 * (TRACELET_KEEP_ERRORS) recorded after all, every span of it marked `tracelet.kept_by=error`.
 * Returns the status codes of its request spans, sorted: one per failed (5xx) request sent.
 */
export function keptStatusesOf(running: FrameworkApp, traceId: string): number[] {
  const spans = running.receiver.spans.filter((s) => s.traceId === traceId);
  for (const span of spans) expect(span.attributes['tracelet.kept_by']).toBe('error');
  return spans
    .filter((s) => s.kind === SERVER)
    .map((s) => s.attributes['http.response.status_code'] as number)
    .sort();
}
