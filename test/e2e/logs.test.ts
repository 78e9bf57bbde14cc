import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAppDir, type AppDirOptions } from '../helpers/app-dir';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver';
import { runApp, type AppResult, type Preload } from '../helpers/run-app';
import { SERVER } from '../helpers/span-kinds';

/**
 * Trace ids in pino (10 and 7) and winston records, in an application started the way a user
 * starts it: each logger logs at startup, inside an HTTP request's handler and after it, to
 * stdout, a pino.destination file, a pino/file transport and a winston printf file. Each run is
 * compared with the same application run without the agent.
 */

/** pino 10 is installed as `pino`; pino 7 as the npm alias `pino-v7`, given to the app under its real name. */
const PINO_DIRS: Record<7 | 10, AppDirOptions> = { 10: { links: ['pino', 'winston'] }, 7: { links: ['winston'], aliases: { pino: 'pino-v7' } } };
const SCRIPTS = [
  ['logs-app.cjs', 'require'],
  ['logs-app.mjs', 'import'],
] as const;
const FILES = ['pino-destination.log', 'pino-transport.log', 'winston-printf.log'] as const;
/**
 * Where JSON records go (the printf file's lines are not JSON). Each logger's stdout lines are
 * kept apart: pino (through its own writer) and winston (through process.stdout) interleave
 * differently from run to run.
 */
const JSON_DESTINATIONS = ['stdout pino', 'stdout winston', 'pino-destination.log', 'pino-transport.log'] as const;
const FIELDS = ['trace_id', 'span_id', 'trace_flags'] as const;

interface LogRun {
  readonly result: AppResult;
  /** The record lines of each destination: each logger's on stdout, and each file. */
  readonly lines: Record<'stdout pino' | 'stdout winston' | (typeof FILES)[number], string[]>;
}

let receiver: OtlpReceiver;
beforeAll(async () => {
  receiver = await OtlpReceiver.start();
});
afterAll(() => receiver.close());

async function runLogsApp(service: string, major: 7 | 10, script: string, preload: Preload, env: Record<string, string> = {}): Promise<LogRun> {
  const dir = makeAppDir({ fixtures: [script, 'logs-app-body.cjs'], ...PINO_DIRS[major] });
  const logDir = join(dir, 'logs');
  mkdirSync(logDir);
  const result = await runApp({
    script: join(dir, script),
    cwd: dir,
    preload,
    env: { OTEL_SERVICE_NAME: service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, LOG_DIR: logDir, ...env },
  });
  expect(result.code, result.stderr).toBe(0);
  const stdoutOf = (logger: string) => result.stdout.split('\n').filter((line) => line.startsWith('{') && line.includes(`"logger":"${logger}"`));
  const files = Object.fromEntries(FILES.map((file) => [file, readFileSync(join(logDir, file), 'utf8').split('\n').filter(Boolean)]));
  return { result, lines: { 'stdout pino': stdoutOf('pino'), 'stdout winston': stdoutOf('winston'), ...files } as LogRun['lines'] };
}

const phaseOf = (line: string) => (JSON.parse(line) as { phase: string }).phase;
/** The JSON records of one phase (startup, request, after), by destination. */
const recordsOf = (run: LogRun, phase: string): Record<string, string[]> =>
  Object.fromEntries(JSON_DESTINATIONS.map((where) => [where, run.lines[where].filter((line) => phaseOf(line) === phase)]));
/** A JSON record without the correlation fields, as it would be written without them. */
const withoutFields = (line: string) =>
  JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(line)).filter(([key]) => !(FIELDS as readonly string[]).includes(key))));

/** The server span of the app's request to itself. */
function serverSpanOf(service: string): Promise<ReceivedSpan> {
  const find = (spans: ReceivedSpan[]) => spans.find((s) => s.resource['service.name'] === service && s.kind === SERVER);
  return receiver.waitUntil(find, 10_000, () => `no server span of ${service}`);
}

for (const major of [10, 7] as const) {
  for (const [script, preload] of SCRIPTS) {
    describe(`pino ${major} and winston 3, ${script} (--${preload})`, () => {
      const service = `logs-${major}-${script}`;
      let traced: LogRun;
      let bare: LogRun;
      let off: LogRun;
      beforeAll(async () => {
        [traced, bare, off] = await Promise.all([
          runLogsApp(service, major, script, preload),
          runLogsApp(`${service}-bare`, major, script, 'none'),
          runLogsApp(`${service}-off`, major, script, preload, { OTEL_NODE_LOG_CORRELATION: 'false' }),
        ]);
      });

      it(`runs the installed pino ${major}, and every record logged in the request handler carries the server span's ids`, async () => {
        expect(traced.result.stdout).toContain(`versions pino=${major}.`);
        const server = await serverSpanOf(service);
        const inRequest = recordsOf(traced, 'request');
        expect(Object.fromEntries(Object.entries(inRequest).map(([where, lines]) => [where, lines.length]))).toEqual({
          'stdout pino': 1,
          'stdout winston': 3,
          'pino-destination.log': 2,
          'pino-transport.log': 1,
        });
        for (const line of Object.values(inRequest).flat()) {
          expect(JSON.parse(line)).toMatchObject({ trace_id: server.traceId, span_id: server.spanId, trace_flags: '03' });
        }
        // The printf file shows them through the format.
        const printf = traced.lines['winston-printf.log'];
        expect(printf.filter((line) => line.includes(`trace_id=${server.traceId} span_id=${server.spanId} trace_flags=03`))).toHaveLength(3);
      });

      it('writes every record outside a span byte for byte as without the agent, and the others with only the three fields more', () => {
        for (const phase of ['startup', 'after']) expect(recordsOf(traced, phase)).toEqual(recordsOf(bare, phase));
        const inRequest = recordsOf(traced, 'request');
        const bareInRequest = recordsOf(bare, 'request');
        for (const where of Object.keys(inRequest)) expect(inRequest[where]!.map(withoutFields)).toEqual(bareInRequest[where]);
        // The printf file (not JSON): the same lines but for the request's three, which show the ids.
        const printf = traced.lines['winston-printf.log'];
        const barePrintf = bare.lines['winston-printf.log'];
        expect(printf).toHaveLength(9);
        expect(printf.filter((line, i) => line !== barePrintf[i])).toEqual(printf.slice(3, 6));
      });

      it('leaves every record as without the agent with OTEL_NODE_LOG_CORRELATION=false', () => {
        expect(off.lines).toEqual(bare.lines);
        expect(off.result.stderr).not.toContain('OTEL_NODE_LOG_CORRELATION');
      });
    });
  }
}

describe('OTEL_NODE_LOG_CORRELATION with a bad value', () => {
  it('warns once and keeps correlation on', async () => {
    const run = await runLogsApp('logs-bad-value', 10, 'logs-app.cjs', 'require', { OTEL_NODE_LOG_CORRELATION: 'sometimes' });
    const warnings = run.result.stderr.split('\n').filter((line) => line.includes('OTEL_NODE_LOG_CORRELATION'));
    expect(warnings).toEqual([expect.stringContaining('OTEL_NODE_LOG_CORRELATION="sometimes" is invalid (expected true or false); using true')]);
    const server = await serverSpanOf('logs-bad-value');
    expect(recordsOf(run, 'request')['pino-destination.log']!.map((line) => JSON.parse(line).span_id)).toContain(server.spanId);
  });
});
