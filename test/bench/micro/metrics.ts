// Micro-benchmarks of the request duration metrics (bundled by esbuild from src/ before the run):
// the time one record() takes on each recorder method for attribute sets already seen, and the
// heap over a million records of repeated sets, which should not grow (nothing is allocated per
// record). Run with --expose-gc. Prints one JSON line of results.
import { PerformanceObserver } from 'node:perf_hooks';
import { TEMPORALITY_CUMULATIVE } from '../../../src/metrics/data';
import { RequestMetrics } from '../../../src/metrics/request-recorder';

const MIN_MS = Number(process.argv[2] ?? 300);
const SAMPLES = Number(process.argv[3] ?? 5);
const RECORDS = 1_000_000;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const recorder = new RequestMetrics({ temporality: TEMPORALITY_CUMULATIVE, cardinalityLimit: 2000, startTime: Date.now() });

// A realistic spread of repeated attribute sets: 16 routes, 4 status codes, 8 hosts, 8 queries.
const ROUTES = Array.from({ length: 16 }, (_, i) => `/api/v1/resource-${i}/:id`);
const STATUSES = [200, 201, 404, 500];
const HOSTS = Array.from({ length: 8 }, (_, i) => `service-${i}.internal`);
const QUERIES = Array.from({ length: 8 }, (_, i) => `SELECT table_${i}`);

const server = (i: number): void =>
  recorder.httpServer(0.001 * (i & 255), 'GET', ROUTES[i & 15], STATUSES[(i >> 4) & 3]!, (i & 63) === 0 ? '500' : undefined, 'http', '1.1');
const client = (i: number): void => recorder.httpClient(0.002 * (i & 127), 'POST', STATUSES[i & 3]!, undefined, HOSTS[(i >> 2) & 7], 443, '1.1');
const db = (i: number): void =>
  recorder.dbClient(0.0005 * (i & 63), 'postgresql', 'app', 'SELECT', QUERIES[i & 7], undefined, undefined, 'db.internal', 5432);

/** Nanoseconds per call: the median of SAMPLES timed samples, each at least MIN_MS of `batch` calls. */
function nanosPerCall(body: (i: number) => void, batch = 1000): number {
  const costs: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample++) {
    let calls = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < BigInt(MIN_MS) * 1_000_000n) {
      for (let i = 0; i < batch; i++) body(calls + i);
      calls += batch;
      elapsed = process.hrtime.bigint() - start;
    }
    costs.push(Number(elapsed) / calls);
  }
  costs.sort((a, b) => a - b);
  return costs[costs.length >> 1]!;
}

/**
 * Heap over RECORDS records of repeated sets (after a warm-up that created every series): what
 * the loop allocated (heap used before and after, with no collection in between, checked by
 * counting collections) and what stays after a full collection.
 */
async function heapOver(body: (i: number) => void): Promise<{ allocatedBytes: number; retainedBytes: number; collections: number }> {
  for (let i = 0; i < 10_000; i++) body(i);
  gc!();
  let collections = 0;
  const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
  observer.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < RECORDS; i++) body(i);
  const after = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setImmediate(resolve)); // gc entries are delivered asynchronously
  observer.disconnect();
  gc!();
  const retained = process.memoryUsage().heapUsed;
  return { allocatedBytes: after - before, retainedBytes: retained - before, collections };
}

async function main(): Promise<void> {
  const results: Record<string, number> = {};
  results['http.server.request.duration record, ns'] = nanosPerCall(server);
  results['http.client.request.duration record, ns'] = nanosPerCall(client);
  results['db.client.operation.duration record, ns'] = nanosPerCall(db);
  const heap: Record<string, { allocatedBytes: number; retainedBytes: number; collections: number }> = {};
  heap.server = await heapOver(server);
  heap.client = await heapOver(client);
  heap.db = await heapOver(db);
  const series = { server: recorder.server.seriesCount, client: recorder.client.seriesCount, db: recorder.db.seriesCount };
  process.stdout.write(`${JSON.stringify({ results, heap, records: RECORDS, series })}\n`);
}

void main();
