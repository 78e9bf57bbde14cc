import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OtlpMetricsConfig } from '../../../src/config/env';
import { diag } from '../../../src/diag/logger';
import { OtlpMetricsExporter } from '../../../src/export/otlp/metrics-exporter';
import { requestMetrics } from '../../../src/instrumentation/request-metrics';
import { TEMPORALITY_CUMULATIVE, TEMPORALITY_DELTA, type Temporality } from '../../../src/metrics/data';
import type { MetricsExporter } from '../../../src/metrics/exporter';
import { PeriodicMetricReader } from '../../../src/metrics/periodic-reader';
import { RequestMetrics } from '../../../src/metrics/request-recorder';
import { RuntimeMetrics } from '../../../src/metrics/runtime';
import { ExportMetricsServiceRequest } from '../../helpers/otlp-schema.mjs';
import { unusedPort } from '../../helpers/http-client';

/* eslint-disable @typescript-eslint/no-explicit-any -- decoded messages are untyped */

interface Loopback {
  server: Server;
  url: string;
  bodies: any[];
  paths: string[];
}

/** A real HTTP server on 127.0.0.1 that answers every request with `status`. */
async function loopback(status: number): Promise<Loopback> {
  const bodies: any[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(req.url ?? '');
      if (status === 200)
        bodies.push(ExportMetricsServiceRequest.toObject(ExportMetricsServiceRequest.decode(Buffer.concat(chunks)), { longs: String }));
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? '' : 'no metrics here');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`, bodies, paths };
}

const config = (url: string): OtlpMetricsConfig => ({ url, protocol: 'http/protobuf', headers: {}, timeoutMs: 2000, compression: 'none' });
const RESOURCE = { attributes: { 'service.name': 'unit' } };

let lines: string[] = [];
let servers: Server[] = [];
beforeEach(() => {
  lines = [];
  diag.setSink((line) => lines.push(line));
  diag.setLevel('info');
});
afterEach(async () => {
  diag.setSink(undefined);
  requestMetrics.recorder = undefined;
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  servers = [];
});

function reader(exporterFor: (stop: () => void) => MetricsExporter, temporality: Temporality = TEMPORALITY_CUMULATIVE) {
  const options = { temporality, cardinalityLimit: 100, startTime: Date.now() };
  const requests = new RequestMetrics(options);
  const runtime = new RuntimeMetrics(options);
  let instance: PeriodicMetricReader | undefined;
  const exporter = exporterFor(() => instance?.removeExporter(exporter));
  instance = new PeriodicMetricReader({ intervalMs: 60_000, requests, runtime, exporters: [exporter] });
  instance.start();
  return { reader: instance, requests, runtime };
}

describe('the OTLP metrics exporter', () => {
  it('delivers request and runtime metrics to a receiver', async () => {
    const receiver = await loopback(200);
    servers.push(receiver.server);
    const { reader: r } = reader((stop) => new OtlpMetricsExporter(config(receiver.url), RESOURCE, stop));
    expect(requestMetrics.recorder).toBeDefined();
    requestMetrics.recorder!.httpServer(0.01, 'GET', '/', 200, undefined, 'http', '1.1');
    await new Promise((resolve) => setTimeout(resolve, 30));
    await r.forceFlush();
    expect(receiver.bodies).toHaveLength(1);
    const names = receiver.bodies[0].resourceMetrics[0].scopeMetrics[0].metrics.map((metric: any) => metric.name);
    expect(names).toContain('http.server.request.duration');
    expect(names).toContain('v8js.memory.heap.used');
    expect(names).toContain('nodejs.eventloop.utilization');
    expect(lines).toEqual([]);
    await r.shutdown();
    expect(requestMetrics.recorder).toBeUndefined();
  });

  it('switches metrics off after a final refusal (404), saying so once, and sends nothing more', async () => {
    const receiver = await loopback(404);
    servers.push(receiver.server);
    const { reader: r, runtime } = reader((stop) => new OtlpMetricsExporter(config(receiver.url), RESOURCE, stop));
    await r.forceFlush();
    expect(receiver.paths).toEqual(['/v1/metrics']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`warn: the receiver at ${receiver.url} refused metrics with HTTP 404: no metrics here; metrics are now off`);
    expect(requestMetrics.recorder).toBeUndefined();
    expect(r.active).toBe(false);
    expect((runtime as any).gcObserver).toBeUndefined();
    expect((runtime as any).delay).toBeUndefined();
    expect((r as any).timer).toBeUndefined();
    await r.forceFlush();
    r.flushAtExit(1000);
    expect(receiver.paths).toHaveLength(1);
    expect(lines).toHaveLength(1);
  });

  it('keeps metrics on through an outage: one warning, tried again at the next export', async () => {
    const port = await unusedPort();
    const url = `http://127.0.0.1:${port}/v1/metrics`;
    const { reader: r } = reader((stop) => new OtlpMetricsExporter({ ...config(url), timeoutMs: 300 }, RESOURCE, stop));
    await r.forceFlush();
    await r.forceFlush();
    expect(lines.filter((line) => line.includes('cannot deliver metrics'))).toHaveLength(1);
    expect(lines[0]).toContain(`cannot deliver metrics to ${url} (ECONNREFUSED`);
    expect(r.active).toBe(true);
    expect(requestMetrics.recorder).toBeDefined();
    await r.shutdown();
  });

  it('delta: a second flush without new requests exports no request histogram', async () => {
    const receiver = await loopback(200);
    servers.push(receiver.server);
    const { reader: r } = reader((stop) => new OtlpMetricsExporter(config(receiver.url), RESOURCE, stop), TEMPORALITY_DELTA);
    requestMetrics.recorder!.dbClient(0.002, 'postgresql', 'test', 'SELECT', undefined, undefined, undefined, 'localhost', 5432);
    await r.forceFlush();
    await r.forceFlush();
    const names = (body: any) => body.resourceMetrics[0].scopeMetrics[0].metrics.map((metric: any) => metric.name);
    expect(names(receiver.bodies[0])).toContain('db.client.operation.duration');
    expect(names(receiver.bodies[1])).not.toContain('db.client.operation.duration');
    const db = receiver.bodies[0].resourceMetrics[0].scopeMetrics[0].metrics.find((metric: any) => metric.name === 'db.client.operation.duration');
    expect(db.histogram.aggregationTemporality).toBe(1);
    await r.shutdown();
  });
});
