import type { SpanContext } from '@opentelemetry/api';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pinoInstrumentation } from '../../../../instrumentations/pino';
import { EnvReader } from '../../../../src/config/env';
import { agentContext, ROOT_CONTEXT, setSpanContext } from '../../../../src/instrumentation/api';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext, type TestInstrumentationContext } from '../../../helpers/instrumentation-context';

/**
 * The pino instrumentation in process on the real pino 10 and pino 7: a fresh copy of the package
 * patched as the agent patches it (its lib/proto.js, before pino's main file is loaded), next to
 * an unpatched copy that shows what each record must look like without the agent.
 */

const require = createRequire(import.meta.url);
installContextManager();
afterAll(() => removeContextManager());
const { tracer } = testProvider();

const SAMPLED: SpanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
const UNSAMPLED: SpanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 };
const INVALID: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 1 };

type Logger = Record<string, (...args: unknown[]) => unknown> & { child(bindings: object, options?: object): Logger; level: string };
type Pino = ((options?: object, destination?: unknown) => Logger) & Record<string, unknown>;

/** A destination that keeps each line pino writes. */
function sink(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

/** Options that make two loggers' lines comparable: no clock, no pid or hostname. */
const STABLE = { timestamp: false, base: undefined } as const;

function freshRequire(installed: string): void {
  for (const key of Object.keys(require.cache)) if (key.includes(`/node_modules/${installed}/`)) delete require.cache[key];
}

function loadBare(installed: string): Pino {
  freshRequire(installed);
  return require(installed) as Pino;
}

function loadPatched(
  installed: string,
  env: Record<string, string> = {},
  throwErrors = true,
): { pino: Pino; ctx: TestInstrumentationContext<unknown> } {
  freshRequire(installed);
  const ctx = instrumentationContext(pinoInstrumentation, tracer, env, { throwErrors });
  const version = (require(`${installed}/package.json`) as { version: string }).version;
  pinoInstrumentation.patches![0]!.patch(require(`${installed}/lib/proto.js`), ctx, { module: 'pino', version, viaImport: false });
  return { pino: require(installed) as Pino, ctx: ctx as TestInstrumentationContext<unknown> };
}

const inSpan = <T>(spanContext: SpanContext, fn: () => T): T => agentContext.with(setSpanContext(ROOT_CONTEXT, spanContext), fn);
const records = (lines: readonly string[]) => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
const idsOf = (spanContext: SpanContext, flags = '01') => ({ trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: flags });

/** The same calls on a logger: records that cover pino's argument forms. */
function logEveryForm(logger: Logger): void {
  logger.info('plain message');
  logger.info({ user: 'ada', nested: { n: 1 } }, 'with %s', 'args');
  logger.warn(new Error('boom'));
  logger.error({ err: new Error('inner') }, 'error in object');
  logger.info({ only: 'object' });
}

for (const installed of ['pino', 'pino-v7'] as const) {
  const major = Number((require(`${installed}/package.json`) as { version: string }).version.split('.')[0]);
  describe(`pino ${major}`, () => {
    const bare = loadBare(installed);
    const { pino, ctx } = loadPatched(installed);

    it('adds the active span ids to every record form, after the fields pino writes', () => {
      const out = sink();
      const logger = pino(STABLE, out);
      inSpan(SAMPLED, () => logEveryForm(logger));
      expect(out.lines).toHaveLength(5);
      for (const record of records(out.lines)) expect(record).toMatchObject(idsOf(SAMPLED));
      expect(records(out.lines)[1]).toMatchObject({ user: 'ada', nested: { n: 1 }, msg: 'with args' });
      expect(records(out.lines)[2]).toMatchObject({ msg: 'boom', err: { type: 'Error', message: 'boom' } });
      expect(ctx.errors).toEqual([]);
    });

    it('writes records outside a span, and in an invalid span context, byte for byte as without the agent', () => {
      const traced = sink();
      const untraced = sink();
      const logger = pino(STABLE, traced);
      const reference = bare(STABLE, untraced);
      logEveryForm(logger);
      inSpan(INVALID, () => logEveryForm(logger));
      logEveryForm(reference);
      logEveryForm(reference);
      const withoutStacks = (lines: string[]) => lines.map((line) => line.replace(/"stack":"[^"]*"/g, '"stack":"…"'));
      expect(withoutStacks(traced.lines)).toEqual(withoutStacks(untraced.lines));
    });

    it('hands pino the log call’s own object outside a span (no copy, as without a mixin)', () => {
      const out = sink() as ReturnType<typeof sink> & { lastObj?: unknown; [key: symbol]: unknown };
      out[Symbol.for('pino.metadata')] = true;
      const logger = pino(STABLE, out);
      const merge = { user: 'ada' };
      logger.info(merge, 'hello');
      expect(out.lastObj).toBe(merge);
      expect(merge).toEqual({ user: 'ada' });
    });

    it('gives an unsampled span’s ids with trace_flags 00, and the ids of the span active at each call', () => {
      const out = sink();
      const logger = pino(STABLE, out);
      inSpan(UNSAMPLED, () => logger.info('unsampled'));
      tracer.startActiveSpan('real span', (span) => {
        logger.info('inside');
        span.end();
        // A trace the agent starts is sampled and its id random (W3C Level 2): flags 03.
        expect(records(out.lines)[1]).toMatchObject(idsOf(span.spanContext(), '03'));
      });
      logger.info('after');
      expect(records(out.lines)[0]).toMatchObject(idsOf(UNSAMPLED, '00'));
      expect(records(out.lines)[2]).not.toHaveProperty('trace_id');
    });

    it('covers child loggers, grandchildren and children with options of their own', () => {
      const out = sink();
      const root = pino(STABLE, out);
      const child = root.child({ module: 'db' });
      const grandchild = child.child({ query: 'q1' }, { level: 'debug' });
      inSpan(SAMPLED, () => {
        child.info('child');
        grandchild.debug('grandchild');
      });
      child.info('child outside');
      const [inChild, inGrandchild, outside] = records(out.lines);
      expect(inChild).toMatchObject({ module: 'db', msg: 'child', ...idsOf(SAMPLED) });
      expect(inGrandchild).toMatchObject({ module: 'db', query: 'q1', msg: 'grandchild', ...idsOf(SAMPLED) });
      expect(Object.keys(outside!)).toEqual(['level', 'module', 'msg']);
    });

    it('keeps the application’s mixin: its fields join the ids, and it gets the arguments pino gives it', () => {
      const out = sink();
      const calls: unknown[][] = [];
      const logger = pino(
        {
          ...STABLE,
          mixin(...args: unknown[]) {
            calls.push(args);
            return { tenant: 'acme' };
          },
        },
        out,
      );
      inSpan(SAMPLED, () => logger.info({ user: 'ada' }, 'in span'));
      logger.info('outside');
      expect(records(out.lines)).toEqual([
        { level: 30, ...idsOf(SAMPLED), tenant: 'acme', user: 'ada', msg: 'in span' },
        { level: 30, tenant: 'acme', msg: 'outside' },
      ]);
      expect(calls[0]![0]).toEqual({ user: 'ada' });
      expect(calls[0]![1]).toBe(30);
      if (major >= 8) expect(calls[0]![2]).toBe(logger);
    });

    it('leaves a record alone when the log call or the application’s mixin already sets a correlation field', () => {
      const out = sink();
      const own = pino({ ...STABLE, mixin: () => ({ trace_id: 'from-mixin' }) }, out);
      const plain = pino(STABLE, out);
      inSpan(SAMPLED, () => {
        own.info('mixin has one');
        plain.info({ span_id: 'from-call' }, 'call has one');
      });
      expect(records(out.lines)).toEqual([
        { level: 30, trace_id: 'from-mixin', msg: 'mixin has one' },
        { level: 30, span_id: 'from-call', msg: 'call has one' },
      ]);
    });

    it('merges through the application’s mixinMergeStrategy when it has one', () => {
      const out = sink();
      const logger = pino(
        {
          ...STABLE,
          mixin: () => ({ source: 'mixin' }),
          mixinMergeStrategy: (merge: object, mixin: object) => ({ ...merge, ...mixin, merged: true }),
        },
        out,
      );
      inSpan(SAMPLED, () => logger.info({ source: 'call' }, 'strategy'));
      logger.info({ source: 'call' }, 'strategy outside');
      expect(records(out.lines)).toEqual([
        { level: 30, ...idsOf(SAMPLED), source: 'mixin', merged: true, msg: 'strategy' },
        { level: 30, source: 'mixin', merged: true, msg: 'strategy outside' },
      ]);
    });

    it('reaches a pino.destination file, and keeps every export working', () => {
      const file = join(mkdtempSync(join(tmpdir(), 'tracelet-pino-')), 'out.log');
      const logger = pino(STABLE, (pino.destination as (options: object) => unknown)({ dest: file, sync: true }));
      inSpan(SAMPLED, () => logger.info('to a file'));
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ msg: 'to a file', ...idsOf(SAMPLED) });
      expect(pino.default).toBe(pino);
      expect(pino.pino).toBe(pino);
      expect(typeof pino.transport).toBe('function');
      expect(typeof (pino.stdSerializers as Record<string, unknown>).err).toBe('function');
    });

    it('never throws into the application: a failure of its own is reported and the record written without the ids', () => {
      const { pino: failing, ctx: failures } = loadPatched(installed, {}, false);
      const out = sink();
      const logger = failing(STABLE, out);
      // pino skips non-enumerable properties; reading this one (to see whether the call set the field) fails.
      const merge = Object.defineProperty({ user: 'ada' }, 'trace_id', {
        get() {
          throw new Error('unreadable');
        },
      });
      inSpan(SAMPLED, () => logger.info(merge, 'still written'));
      expect(out.lines).toEqual(['{"level":30,"user":"ada","msg":"still written"}\n']);
      expect(failures.errors).toEqual([new Error('unreadable')]);
    });

    it('is off with OTEL_NODE_LOG_CORRELATION=false: records in a span stay as without the agent', () => {
      const { pino: off } = loadPatched(installed, { OTEL_NODE_LOG_CORRELATION: 'false' });
      const out = sink();
      const logger = off(STABLE, out);
      inSpan(SAMPLED, () => logger.info({ user: 'ada' }, 'off'));
      expect(out.lines).toEqual(['{"level":30,"user":"ada","msg":"off"}\n']);
      const mixinSym = (off.symbols as Record<string, symbol>).mixinSym!;
      expect((logger as unknown as Record<symbol, unknown>)[mixinSym]).toBeUndefined();
    });
  });
}

describe('OTEL_NODE_LOG_CORRELATION', () => {
  it('defaults to on, and a bad value warns and keeps the default', () => {
    expect(instrumentationContext(pinoInstrumentation, tracer).settings).toEqual({ logCorrelation: true });
    expect(instrumentationContext(pinoInstrumentation, tracer, { OTEL_NODE_LOG_CORRELATION: 'FALSE' }).settings).toEqual({ logCorrelation: false });
    const warnings: string[] = [];
    const settings = pinoInstrumentation.readSettings!(new EnvReader({ OTEL_NODE_LOG_CORRELATION: 'nope' }, warnings));
    expect(settings).toEqual({ logCorrelation: true });
    expect(warnings).toEqual(['OTEL_NODE_LOG_CORRELATION="nope" is invalid (expected true or false); using true']);
  });
});
