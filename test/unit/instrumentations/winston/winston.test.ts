import type { SpanContext } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { winstonInstrumentation } from '../../../../instrumentations/winston';
import { agentContext, ROOT_CONTEXT, setSpanContext } from '../../../../src/instrumentation/api';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';
import { instrumentationContext, type TestInstrumentationContext } from '../../../helpers/instrumentation-context';

/**
 * The winston instrumentation in process on the real winston 3: a fresh copy patched as the agent
 * patches it (its lib/winston/logger.js), next to an unpatched copy that shows what each record
 * must look like without the agent. Records go through real formats to Stream transports.
 */

const require = createRequire(import.meta.url);
installContextManager();
afterAll(() => removeContextManager());
const { tracer } = testProvider();

const SAMPLED: SpanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
const OTHER: SpanContext = { traceId: '5b8aa5a2d2c872e8321cf37308d69df2', spanId: '051581bf3cb55c13', traceFlags: 1 };
const UNSAMPLED: SpanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 };
const INVALID: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 1 };

/* eslint-disable @typescript-eslint/no-explicit-any -- winston's API is loaded untyped (through require, fresh per test file) */
type Winston = any;
type Logger = any;
/* eslint-enable @typescript-eslint/no-explicit-any */

function freshWinston(): void {
  for (const key of Object.keys(require.cache))
    if (key.includes('/node_modules/winston/') || key.includes('/node_modules/logform/')) delete require.cache[key];
}

function loadBare(): Winston {
  freshWinston();
  return require('winston');
}

function loadPatched(env: Record<string, string> = {}, throwErrors = true): { winston: Winston; ctx: TestInstrumentationContext<unknown> } {
  freshWinston();
  const ctx = instrumentationContext(winstonInstrumentation, tracer, env, { throwErrors });
  const version = (require('winston/package.json') as { version: string }).version;
  winstonInstrumentation.patches![0]!.patch(require('winston/lib/winston/logger.js'), ctx, { module: 'winston', version, viaImport: false });
  return { winston: require('winston'), ctx: ctx as TestInstrumentationContext<unknown> };
}

/** A stream that keeps each line a Stream transport writes. */
function lineSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString().replace(/\n$/, ''));
      callback();
    },
  });
  return { stream, lines };
}

/** winston hands records to its transports through streams: waits (by turns of the event loop, not by time) for `count` lines. */
async function linesOf(sink: { lines: string[] }, count: number): Promise<string[]> {
  for (let turn = 0; turn < 100 && sink.lines.length < count; turn++) await new Promise((resolve) => setImmediate(resolve));
  expect(sink.lines).toHaveLength(count);
  return sink.lines;
}

const inSpan = <T>(spanContext: SpanContext, fn: () => T): T => agentContext.with(setSpanContext(ROOT_CONTEXT, spanContext), fn);
const idsOf = (spanContext: SpanContext, flags = '01') => ({ trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: flags });

/** Every way of logging a record (five records). */
function logEveryForm(logger: Logger): void {
  logger.info('plain message');
  logger.info('with meta', { user: 'ada' });
  logger.log('warn', 'log with meta %s', 'arg', { user: 'bob' });
  logger.log({ level: 'error', message: 'a record literal', code: 7 });
  logger.child({ requestId: 'r1' }).info('from a child', { step: 2 });
}

/** logfmt-ish: key=value pairs of every field, in order (what a custom format typically does). */
function logfmt(winston: Winston) {
  return winston.format((info: Record<string | symbol, unknown>) => {
    info[Symbol.for('message')] = Object.entries(info)
      .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
      .join(' ');
    return info;
  })();
}

/** One logger per format, each with its own Stream transport; a second transport with its own format on the json one. */
function loggersOf(winston: Winston) {
  const { format } = winston;
  const sinks = { json: lineSink(), simple: lineSink(), printf: lineSink(), logfmt: lineSink(), second: lineSink() };
  const make = (fmt: unknown, ...streams: Writable[]) =>
    winston.createLogger({ level: 'info', format: fmt, transports: streams.map((stream) => new winston.transports.Stream({ stream })) });
  const loggers = {
    json: winston.createLogger({
      format: format.json(),
      transports: [
        new winston.transports.Stream({ stream: sinks.json.stream }),
        new winston.transports.Stream({
          stream: sinks.second.stream,
          format: format.printf((info: Record<string, unknown>) => `second ${info.trace_id}`),
        }),
      ],
    }),
    simple: make(format.simple(), sinks.simple.stream),
    printf: make(
      format.printf(
        (info: Record<string, unknown>) =>
          `${info.level} ${info.message} trace_id=${info.trace_id} span_id=${info.span_id} flags=${info.trace_flags}`,
      ),
      sinks.printf.stream,
    ),
    logfmt: make(logfmt(winston), sinks.logfmt.stream),
  };
  return { loggers, sinks };
}

describe('winston 3', () => {
  const bare = loadBare();
  const { winston, ctx } = loadPatched();

  it('adds the active span ids to every way of logging, and every format shows them', async () => {
    const { loggers, sinks } = loggersOf(winston);
    inSpan(SAMPLED, () => Object.values(loggers).forEach(logEveryForm));
    const json = (await linesOf(sinks.json, 5)).map((line) => JSON.parse(line));
    for (const record of json) expect(record).toMatchObject(idsOf(SAMPLED));
    expect(json[1]).toEqual({ level: 'info', message: 'with meta', user: 'ada', ...idsOf(SAMPLED) });
    expect(json[3]).toEqual({ level: 'error', message: 'a record literal', code: 7, ...idsOf(SAMPLED) });
    expect(json[4]).toEqual({ level: 'info', message: 'from a child', requestId: 'r1', step: 2, ...idsOf(SAMPLED) });
    expect(await linesOf(sinks.second, 5)).toEqual(Array(5).fill(`second ${SAMPLED.traceId}`));
    expect((await linesOf(sinks.printf, 5))[0]).toBe(`info plain message trace_id=${SAMPLED.traceId} span_id=${SAMPLED.spanId} flags=01`);
    // simple: `level: message {rest as JSON}`
    for (const line of await linesOf(sinks.simple, 5)) expect(JSON.parse(line.slice(line.indexOf('{')))).toMatchObject(idsOf(SAMPLED));
    expect((await linesOf(sinks.logfmt, 5))[1]).toBe(
      `user=ada level=info message=with meta trace_id=${SAMPLED.traceId} span_id=${SAMPLED.spanId} trace_flags=01`,
    );
    expect(ctx.errors).toEqual([]);
  });

  it('writes records outside a span, and in an invalid span context, exactly as without the agent', async () => {
    const traced = loggersOf(winston);
    const untraced = loggersOf(bare);
    Object.values(traced.loggers).forEach(logEveryForm);
    inSpan(INVALID, () => Object.values(traced.loggers).forEach(logEveryForm));
    Object.values(untraced.loggers).forEach(logEveryForm);
    Object.values(untraced.loggers).forEach(logEveryForm);
    for (const name of ['json', 'simple', 'printf', 'logfmt', 'second'] as const) {
      expect(await linesOf(traced.sinks[name], 10)).toEqual(await linesOf(untraced.sinks[name], 10));
    }
  });

  it('gives an unsampled span’s ids with trace_flags 00, and the ids of the span active at each call', async () => {
    const { loggers, sinks } = loggersOf(winston);
    inSpan(UNSAMPLED, () => loggers.json.info('unsampled'));
    tracer.startActiveSpan('real span', (span) => {
      loggers.json.info('inside');
      span.end();
      inSpan(OTHER, () => loggers.json.info('nested'));
    });
    const [unsampled, inside, nested] = (await linesOf(sinks.json, 3)).map((line) => JSON.parse(line));
    expect(unsampled).toMatchObject(idsOf(UNSAMPLED, '00'));
    expect(inside.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(nested).toMatchObject(idsOf(OTHER));
  });

  it('reads the ids when the record is logged, not when the stream gets to it', async () => {
    const { loggers, sinks } = loggersOf(winston);
    loggers.json.cork();
    inSpan(SAMPLED, () => loggers.json.info('queued in a span'));
    loggers.json.info('queued outside');
    loggers.json.uncork();
    const [inside, outside] = (await linesOf(sinks.json, 2)).map((line) => JSON.parse(line));
    expect(inside).toMatchObject(idsOf(SAMPLED));
    expect(outside).toEqual({ level: 'info', message: 'queued outside' });
  });

  it('leaves a record alone when the application already set a correlation field (meta, defaultMeta, child metadata)', async () => {
    const sink = lineSink();
    const logger = winston.createLogger({ format: winston.format.json(), transports: [new winston.transports.Stream({ stream: sink.stream })] });
    const withDefault = winston.createLogger({
      defaultMeta: { span_id: 'default' },
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: sink.stream })],
    });
    inSpan(SAMPLED, () => {
      logger.info('meta has one', { trace_id: 'mine' });
      withDefault.info('default meta has one');
      logger.child({ trace_flags: 'child' }).info('child has one');
    });
    expect((await linesOf(sink, 3)).map((line) => JSON.parse(line))).toEqual([
      { level: 'info', message: 'meta has one', trace_id: 'mine' },
      { level: 'info', message: 'default meta has one', span_id: 'default' },
      { level: 'info', message: 'child has one', trace_flags: 'child' },
    ]);
  });

  it('refreshes a record object logged again, and takes the fields back off it outside a span', async () => {
    const { loggers, sinks } = loggersOf(winston);
    const record = { level: 'info', message: 'reused' };
    inSpan(SAMPLED, () => loggers.json.log(record));
    inSpan(OTHER, () => loggers.json.log(record));
    loggers.json.log(record);
    const lines = (await linesOf(sinks.json, 3)).map((line) => JSON.parse(line));
    expect(lines).toEqual([
      { level: 'info', message: 'reused', ...idsOf(SAMPLED) },
      { level: 'info', message: 'reused', ...idsOf(OTHER) },
      { level: 'info', message: 'reused' },
    ]);
    expect(Object.keys(record)).toEqual(['level', 'message']);
  });

  it('keeps an Error record an Error, so the errors format still reads it', async () => {
    const sink = lineSink();
    const { format } = winston;
    const logger = winston.createLogger({
      format: format.combine(format.errors({ stack: false }), format.json()),
      transports: [new winston.transports.Stream({ stream: sink.stream })],
    });
    inSpan(SAMPLED, () => logger.error(new Error('boom')));
    expect(JSON.parse((await linesOf(sink, 1))[0]!)).toEqual({ level: 'error', message: 'boom', ...idsOf(SAMPLED) });
  });

  it('never throws into the application: a failure of its own is reported and the record written without the ids', async () => {
    const { winston: failing, ctx: failures } = loadPatched({}, false);
    const { loggers, sinks } = loggersOf(failing);
    // Formats skip non-enumerable properties; reading this one (to see whether the record has the field) fails.
    const record = Object.defineProperty({ level: 'info', message: 'still written' }, 'span_id', {
      get() {
        throw new Error('unreadable');
      },
    });
    inSpan(SAMPLED, () => loggers.json.log(record));
    expect(await linesOf(sinks.json, 1)).toEqual(['{"level":"info","message":"still written"}']);
    expect(failures.errors).toEqual([new Error('unreadable')]);
  });

  it('is off with OTEL_NODE_LOG_CORRELATION=false: records in a span stay as without the agent', async () => {
    const { winston: off } = loadPatched({ OTEL_NODE_LOG_CORRELATION: 'false' });
    const { loggers, sinks } = loggersOf(off);
    inSpan(SAMPLED, () => loggers.json.info('off', { user: 'ada' }));
    expect(await linesOf(sinks.json, 1)).toEqual(['{"level":"info","message":"off","user":"ada"}']);
  });
});
