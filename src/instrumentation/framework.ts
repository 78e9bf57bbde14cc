import type { EnvReader } from '../config/env';
import { Outcome, type DescribeFailure } from './outcome';
import type { InstrumentationContext } from './types';

/**
 * What every web framework instrumentation (fastify, express, koa, nestjs) shares: one setting
 * with the same values for all, one way its handler and middleware spans fail, and one way to
 * keep names brief. Frameworks only name and structure: the http instrumentation owns the server
 * span (see http-server-request.ts).
 */

/**
 * OTEL_INSTRUMENTATION_<FRAMEWORK>_SPANS:
 * - `route`: the server span is named after the route only;
 * - `handler` (the default): plus one INTERNAL span for the route handler;
 * - `all`: plus one for each middleware, hook, guard... that ran.
 */
export const FRAMEWORK_SPAN_MODES = ['route', 'handler', 'all'] as const;
export type FrameworkSpans = (typeof FRAMEWORK_SPAN_MODES)[number];

export interface FrameworkSettings {
  readonly spans: FrameworkSpans;
}

/** Reads OTEL_INSTRUMENTATION_<FRAMEWORK>_SPANS (`framework` in upper case: `EXPRESS`). */
export function readFrameworkSettings(env: EnvReader, framework: string): FrameworkSettings {
  return { spans: env.oneOf(`OTEL_INSTRUMENTATION_${framework}_SPANS`, FRAMEWORK_SPAN_MODES, 'handler') };
}

/**
 * A failed handler or middleware: an exception event and error status on the span where the
 * error happened. No error.type: the conventions give a framework's INTERNAL spans none, and the
 * server span gets it from the response (see setHttpServerError).
 */
const describeFrameworkFailure: DescribeFailure = (error) =>
  error instanceof Error ? { exception: error, message: error.message } : { message: String(error) };

/** How a framework's handler and middleware spans end. */
export function frameworkOutcome(ctx: InstrumentationContext<FrameworkSettings>): Outcome {
  return new Outcome(ctx, describeFrameworkFailure);
}

/**
 * A short, low-cardinality name for a function or plugin: a plugin chain (`fastify -> app ->
 * @fastify/cors`) keeps its last link, a file path (as @fastify/autoload names plugins) its
 * package name or file name; never a directory. Undefined when nothing usable is left.
 */
export function briefName(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  let last = name;
  const arrow = name.lastIndexOf(' -> ');
  if (arrow !== -1) last = name.slice(arrow + 4);
  if (last.includes('/') || last.includes('\\')) {
    const parts = last.split(/[\\/]+/).filter((part) => part !== '');
    const modules = parts.lastIndexOf('node_modules');
    if (modules !== -1 && modules + 1 < parts.length) {
      const scope = parts[modules + 1]!;
      last = scope.startsWith('@') && modules + 2 < parts.length ? `${scope}/${parts[modules + 2]}` : scope;
    } else if (last.startsWith('/') || /^[A-Za-z]:/.test(last) || last.startsWith('.')) {
      const file = parts[parts.length - 1];
      last = file === undefined ? '' : file.replace(/\.[cm]?[jt]s$/, '');
      if (last === 'index' && parts.length > 1) last = parts[parts.length - 2]!;
    }
  }
  last = last.trim();
  return last === '' || last.length > 80 ? undefined : last;
}

/**
 * A route handler that a framework built on top of another traces itself (NestJS registers its
 * controllers' handlers on Express or Fastify): the router underneath still names the route, but
 * makes no handler span of its own, so a request reads `GET /api/articles/:id` >
 * `ArticlesController.findOne`, not two spans for one handler.
 */
const kTracedAbove = Symbol('tracelet.framework.tracedAbove');

export function markTracedAbove(handler: Function): void {
  try {
    Object.defineProperty(handler, kTracedAbove, { value: true });
  } catch {
    // a frozen function keeps both spans
  }
}

export function isTracedAbove(handler: unknown): boolean {
  return typeof handler === 'function' && (handler as { [kTracedAbove]?: boolean })[kTracedAbove] === true;
}
