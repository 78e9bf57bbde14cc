import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, startApp } from '../helpers/run-app';

/**
 * OTEL_TRACES_EXPORTER=console when the process is stopped: every trace that finished before the
 * signal is printed, each as one tree, however it was waiting (a remote parent that might still
 * turn up, a child that outlived its root).
 */
const REMOTE_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${REMOTE_TRACE_ID}-00f067aa0ba902b7-01`;

interface Printed {
  readonly traceId: string;
  readonly header: string;
  readonly lines: string[];
}

/** The trace blocks of the console output: a header line, then span and insight lines up to a blank line. */
function printedTraces(stdout: string): Printed[] {
  const traces: Printed[] = [];
  for (const block of stdout.split('\n\n')) {
    const [header, ...lines] = block.split('\n').filter((line) => line !== '');
    const match = header && /^trace ([0-9a-f]{32}) {2}service console-exit/.exec(header);
    if (match) traces.push({ traceId: match[1]!, header: header!, lines });
  }
  return traces;
}

async function serveThreeRequests(entry: string, mode: string) {
  const app = startApp({
    script: join(FIXTURES, entry),
    args: [mode],
    env: { OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'console-exit', NO_COLOR: '1' },
  });
  const [, port] = await app.waitFor(/listening on (\d+)/, 'stderr');
  const base = `http://127.0.0.1:${port}`;
  for (const [path, headers] of [
    ['/plain', {}],
    ['/remote', { traceparent: TRACEPARENT }],
    ['/detached', {}],
  ] as const) {
    const response = await fetch(base + path, { headers });
    expect(await response.text()).toBe('ok');
  }
  await app.waitFor(/detached span ended/, 'stderr');
  return app;
}

function expectThreeWholeTraces(stdout: string): void {
  const traces = printedTraces(stdout);
  expect(traces.map((trace) => trace.lines[0]!.match(/\/\w+/)?.[0]).sort(), stdout).toEqual(['/detached', '/plain', '/remote']);
  expect(new Set(traces.map((trace) => trace.traceId)).size).toBe(3);
  expect(stdout).not.toContain('not seen');
  expect(stdout).not.toContain('printed before');
  const remote = traces.find((trace) => trace.lines[0]!.includes('/remote'))!;
  expect(remote.traceId).toBe(REMOTE_TRACE_ID);
  const detached = traces.find((trace) => trace.lines[0]!.includes('/detached'))!;
  expect(detached.header).toMatch(/ 2 spans/);
  expect(detached.lines[1]).toMatch(/└─ send email /);
}

describe('the console exporter prints every finished trace whole when the process is stopped', () => {
  for (const entry of ['console-exit.cjs', 'console-exit.mjs']) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${entry}, ${signal}, no handler of its own: the process still dies by the signal`, async () => {
        const app = await serveThreeRequests(entry, 'plain');
        const result = await app.stop(signal);
        expect(result.signal).toBe(signal);
        expectThreeWholeTraces(result.stdout);
      });
    }

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${entry}, ${signal}, with the app's own handler calling process.exit`, async () => {
        const app = await serveThreeRequests(entry, 'handler');
        const result = await app.stop(signal);
        expect(result).toMatchObject({ code: 0, signal: null });
        expect(result.stderr).toContain(`app handles ${signal}`);
        expectThreeWholeTraces(result.stdout);
      });
    }
  }
});
