import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { receiverForEachTest } from '../helpers/otlp-receiver';
import { FIXTURES, runApp, startApp } from '../helpers/run-app';

const SCRIPT = join(FIXTURES, 'lifecycle.cjs');

const receiver = receiverForEachTest();

const env = () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint, OTEL_SERVICE_NAME: 'lifecycle' });
const workSpans = () =>
  receiver()
    .spans.filter((span) => span.name.startsWith('work '))
    .map((span) => span.name)
    .sort();

describe('pending spans are flushed without changing how the process ends', () => {
  it('when the event loop runs dry', async () => {
    const result = await runApp({ script: SCRIPT, args: ['natural'], env: env() });
    expect(result).toMatchObject({ code: 0, signal: null, stdout: 'done\n' });
    expect(workSpans()).toEqual(['work 0', 'work 1', 'work 2']);
  });

  it('on process.exit(), keeping the exit code', async () => {
    const result = await runApp({ script: SCRIPT, args: ['exit'], env: env() });
    expect(result).toMatchObject({ code: 3, signal: null, stdout: 'exiting with 3\n' });
    expect(workSpans()).toEqual(['work 0', 'work 1', 'work 2']);
  });

  it('on an uncaught exception, which still crashes the process as usual', async () => {
    const result = await runApp({ script: SCRIPT, args: ['throw'], env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: unhandled failure');
    expect(workSpans()).toEqual(['work 0', 'work 1', 'work 2']);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal} when the app has no handler: the process still dies by the signal`, async () => {
      const app = startApp({ script: SCRIPT, args: ['wait'], env: env() });
      await app.waitFor(/ready/);
      const result = await app.stop(signal);
      expect(result.signal).toBe(signal);
      expect(result.code).toBeNull();
      expect(workSpans()).toEqual(['work 0', 'work 1', 'work 2']);
    });
  }

  it("on SIGTERM when the app handles it: the app's handler decides the exit", async () => {
    const app = startApp({ script: SCRIPT, args: ['handler-exits'], env: env() });
    await app.waitFor(/ready/);
    const result = await app.stop();
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stdout).toBe('ready\ncleanup\n');
    expect(workSpans()).toEqual(['work 0', 'work 1', 'work 2']);
  });

  it('on SIGTERM when the app chooses to keep running: it keeps running', async () => {
    const app = startApp({ script: SCRIPT, args: ['handler-stays'], env: env() });
    await app.waitFor(/ready/);
    app.child.kill('SIGTERM');
    await app.waitFor(/ignored SIGTERM/);
    await receiver().waitForSpans(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(app.child.exitCode).toBeNull();
    expect(app.child.signalCode).toBeNull();
    await app.stop('SIGKILL');
    expect(workSpans()).toEqual(['work 0', 'work 1', 'work 2']);
  });

  it('exports periodically while the app runs (OTEL_BSP_SCHEDULE_DELAY)', async () => {
    const app = startApp({ script: SCRIPT, args: ['periodic'], env: { ...env(), OTEL_BSP_SCHEDULE_DELAY: '100' } });
    await app.waitFor(/ready/);
    await receiver().waitForSpans(10, 5000);
    expect(receiver().requests.length).toBeGreaterThanOrEqual(2);
    await app.stop('SIGKILL');
  });

  it('flushes the whole queue at exit even when it spans several batches', async () => {
    const result = await runApp({
      script: SCRIPT,
      args: ['exit'],
      env: { ...env(), SPAN_COUNT: '1200', OTEL_BSP_MAX_QUEUE_SIZE: '4096' },
    });
    expect(result.code).toBe(3);
    expect(receiver().spans.filter((span) => span.name.startsWith('work '))).toHaveLength(1200);
  });
});
