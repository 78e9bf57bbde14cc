import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OtlpReceiver, type MetricsResponder, type ReceivedMetric } from '../helpers/otlp-receiver';
import { agentLines, FIXTURES, runApp, startApp, type Preload } from '../helpers/run-app';

let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

async function start(metricsResponder?: MetricsResponder): Promise<OtlpReceiver> {
  receiver = await OtlpReceiver.start(undefined, 0, metricsResponder);
  return receiver;
}

const env = (r: OtlpReceiver, extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: r.endpoint,
  OTEL_SERVICE_NAME: 'metrics-e2e',
  ...extra,
});

const RUNTIME_METRICS: ReadonlyArray<[string, ReceivedMetric['type'], string]> = [
  ['nodejs.eventloop.delay.min', 'gauge', 's'],
  ['nodejs.eventloop.delay.max', 'gauge', 's'],
  ['nodejs.eventloop.delay.mean', 'gauge', 's'],
  ['nodejs.eventloop.delay.stddev', 'gauge', 's'],
  ['nodejs.eventloop.delay.p50', 'gauge', 's'],
  ['nodejs.eventloop.delay.p90', 'gauge', 's'],
  ['nodejs.eventloop.delay.p99', 'gauge', 's'],
  ['nodejs.eventloop.utilization', 'gauge', '1'],
  ['v8js.memory.heap.used', 'sum', 'By'],
  ['v8js.memory.heap.limit', 'sum', 'By'],
  ['v8js.memory.heap.space.available_size', 'sum', 'By'],
  ['v8js.memory.heap.space.physical_size', 'sum', 'By'],
];

function byName(metrics: ReceivedMetric[], name: string): ReceivedMetric | undefined {
  return metrics.find((metric) => metric.name === name);
}

/** Every runtime metric with its instrument type and unit, and the heap per space. */
function expectRuntimeMetrics(metrics: ReceivedMetric[]): void {
  for (const [name, type, unit] of RUNTIME_METRICS) {
    const metric = metrics.find((candidate) => candidate.name === name);
    expect(metric, name).toBeDefined();
    expect(metric!.type, name).toBe(type);
    expect(metric!.unit, name).toBe(unit);
    if (type === 'sum') {
      expect(metric!.isMonotonic).toBe(false);
      expect(metric!.temporality).toBe(2);
      expect(metric!.points.map((point) => point.attributes['v8js.heap.space.name'])).toContain('old_space');
      expect(metric!.points[0]!.valueType).toBe('asInt');
    } else {
      expect(metric!.points).toHaveLength(1);
      expect(metric!.points[0]!.valueType).toBe('asDouble');
    }
  }
  expect(metrics[0]!.resource['service.name']).toBe('metrics-e2e');
  expect(metrics[0]!.scope).toEqual({ name: 'tracelet', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
}

/** The receiver has metrics covering every runtime metric (across requests: the first may come before a delay sample). */
const allRuntime = (metrics: ReceivedMetric[]) =>
  RUNTIME_METRICS.every(([name]) => metrics.some((metric) => metric.name === name)) ? metrics : undefined;

describe('metrics reach the collector', () => {
  const variants: Array<[string, Preload]> = [
    ['metrics-app.cjs', 'import'],
    ['metrics-app.mjs', 'import'],
    ['metrics-app.cjs', 'require'],
  ];
  for (const [script, preload] of variants) {
    it(`${script} with --${preload}: periodic OTLP/protobuf exports with the runtime metrics`, async () => {
      const r = await start();
      const app = startApp({ script: join(FIXTURES, script), preload, args: ['serve'], env: env(r, { OTEL_METRIC_EXPORT_INTERVAL: '200' }) });
      await app.waitFor(/ready/);
      const metrics = await r.waitForMetrics(allRuntime);
      await r.waitForMetrics(() => (r.metricsRequests.length >= 2 ? true : undefined));
      await app.stop('SIGKILL');
      expect(r.metricsRequests[0]!.path).toBe('/v1/metrics');
      expect(r.metricsRequests[0]!.headers['content-type']).toBe('application/x-protobuf');
      expectRuntimeMetrics(metrics);
      const server = byName(metrics, 'http.server.request.duration');
      expect(server?.type).toBe('histogram');
      expect(agentLines(app.stderr).filter((line) => /warn|error/.test(line))).toEqual([]);
    });
  }

  it('OTLP/JSON with gzip', async () => {
    const r = await start();
    const result = await runApp({
      script: join(FIXTURES, 'metrics-app.cjs'),
      env: env(r, { OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }),
    });
    expect(result.code).toBe(0);
    expect(r.metricsRequests.length).toBeGreaterThanOrEqual(1);
    const request = r.metricsRequests[0]!;
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['content-encoding']).toBe('gzip');
    expect(byName(request.metrics, 'v8js.memory.heap.used')?.type).toBe('sum');
    // The spans keep their own protocol (protobuf by default).
    expect(r.requests[0]!.headers['content-type']).toBe('application/x-protobuf');
  });

  for (const mode of ['natural', 'exit'] as const) {
    it(`flushes metrics at exit (${mode === 'exit' ? 'process.exit()' : 'the event loop runs dry'}) with the default 60 s interval`, async () => {
      const r = await start();
      const started = Date.now();
      const result = await runApp({ script: join(FIXTURES, 'metrics-app.mjs'), args: [mode], env: env(r) });
      expect(result.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(r.metricsRequests).toHaveLength(1);
      expect(byName(r.metrics, 'v8js.memory.heap.used')).toBeDefined();
      expect(byName(r.metrics, 'http.server.request.duration')?.type).toBe('histogram');
    });
  }

  it('a process that measured no request or call exits without a metrics export', async () => {
    const r = await start();
    const result = await runApp({ script: join(FIXTURES, 'metrics-idle.cjs'), env: env(r) });
    expect(result).toMatchObject({ code: 0, stdout: 'done\n' });
    expect(r.metricsAttempts).toBe(0);
  });

  it('delta temporality under OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta', async () => {
    const r = await start();
    await runApp({ script: join(FIXTURES, 'metrics-app.cjs'), env: env(r, { OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'delta' }) });
    const server = byName(r.metrics, 'http.server.request.duration');
    expect(server?.temporality).toBe(1);
    expect(byName(r.metrics, 'v8js.memory.heap.used')?.temporality).toBe(2);
  });

  it('a backend that refuses metrics (404): one warning, traces still exported, no further metrics requests', async () => {
    const r = await start(() => ({ status: 404, body: 'only traces here' }));
    const app = startApp({
      script: join(FIXTURES, 'metrics-app.cjs'),
      args: ['serve'],
      env: env(r, { OTEL_METRIC_EXPORT_INTERVAL: '100', OTEL_BSP_SCHEDULE_DELAY: '100' }),
    });
    await app.waitFor(/ready/);
    await app.waitFor(/refused metrics/, 'stderr');
    await r.waitForSpans(4);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const result = await app.stop('SIGTERM');
    expect(r.metricsAttempts).toBe(1);
    const warnings = agentLines(result.stderr).filter((line) => /warn|error/.test(line));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`the receiver at ${r.endpoint}/v1/metrics refused metrics with HTTP 404: only traces here; metrics are now off`);
    expect(r.spans.length).toBeGreaterThanOrEqual(4);
  });

  it('no metrics with OTEL_METRICS_EXPORTER=none or OTEL_SDK_DISABLED=true, nor by default when traces go to the console only', async () => {
    const r = await start();
    await runApp({ script: join(FIXTURES, 'metrics-app.cjs'), env: env(r, { OTEL_METRICS_EXPORTER: 'none' }) });
    await runApp({ script: join(FIXTURES, 'metrics-app.cjs'), env: env(r, { OTEL_SDK_DISABLED: 'true', OTEL_METRICS_EXPORTER: 'otlp' }) });
    const consoleOnly = await runApp({
      script: join(FIXTURES, 'metrics-app.cjs'),
      env: env(r, { OTEL_TRACES_EXPORTER: 'console', OTEL_LOG_LEVEL: 'debug' }),
    });
    expect(r.metricsAttempts).toBe(0);
    expect(consoleOnly.stderr).toContain('metrics are off: traces go to the console only and OTEL_METRICS_EXPORTER is unset');
    expect(agentLines(consoleOnly.stderr).find((line) => line.includes(' started: '))).toContain('metrics=none');
  });

  it('OTEL_METRICS_EXPORTER=console prints a short summary', async () => {
    const r = await start();
    const result = await runApp({ script: join(FIXTURES, 'metrics-app.cjs'), env: env(r, { OTEL_METRICS_EXPORTER: 'console' }) });
    expect(result.stdout).toMatch(/^metrics \d{4}-/m);
    expect(result.stdout).toMatch(/^ {2}nodejs\.eventloop\.utilization [\d.]+ 1$/m);
    expect(result.stdout).toMatch(/^ {2}v8js\.memory\.heap\.used \d+ By over \d+ series$/m);
    expect(r.metricsAttempts).toBe(0);
  });

  it('http.server.request.duration for every request, with the sampler dropping them all', async () => {
    const r = await start();
    const result = await runApp({ script: join(FIXTURES, 'metrics-app.cjs'), env: env(r, { OTEL_TRACES_SAMPLER: 'always_off' }) });
    expect(result.code).toBe(0);
    expect(r.spans).toEqual([]);
    const server = byName(r.metrics, 'http.server.request.duration');
    expect(server, 'http.server.request.duration').toBeDefined();
    expect(server!.unit).toBe('s');
    expect(server!.temporality).toBe(2);
    const ok = server!.points.find((point) => point.attributes['http.response.status_code'] === 200);
    expect(ok?.attributes).toMatchObject({ 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1' });
    expect(ok?.count).toBe(3);
    expect(ok?.explicitBounds).toEqual([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
    expect(ok?.bucketCounts?.reduce((a, b) => a + b, 0)).toBe(3);
    const missing = server!.points.find((point) => point.attributes['http.response.status_code'] === 404);
    expect(missing?.count).toBe(1);
  });
});
