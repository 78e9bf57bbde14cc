// CPU per unsampled client call with request metrics off and on: http.request, a pg query, a
// mysql2 query (MariaDB), a node-redis and an ioredis command, each made by 8 concurrent callers
// inside an unsampled trace (OTEL_TRACES_SAMPLER=always_off), in this one process. Rounds
// alternate metrics off and on (requestMetrics.recorder unset and set) on the same connections,
// so the difference is what measuring adds: two clock reads, one small object per call (and one
// promise for pg's promise form and redis 4's queue), and the recorder's own work.
// The agent is bundled from the source into a temporary file first (no dist/ needed). The
// recorder is the metrics SDK's RequestMetrics when src/metrics has it, else a call counter.
// Usage: node test/bench/micro/client-metrics.mjs [kinds=http,pg,mysql2,redis,ioredis] [seconds per round=2] [rounds=5]
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';

const [kindsArg = 'http,pg,mysql2,redis,ioredis', secondsArg = '2', roundsArg = '5'] = process.argv.slice(2);
const KINDS = kindsArg.split(',');
const SECONDS = Number(secondsArg);
const ROUNDS = Number(roundsArg);
const CONCURRENCY = 8;
const ROOT = new URL('../../../', import.meta.url).pathname;
const require = createRequire(join(ROOT, 'package.json'));

async function bundleAgent() {
  // Inside node_modules, so that the agent's runtime dependencies (kept external) resolve.
  const outfile = join(ROOT, 'node_modules', '.cache', 'tracelet-bench', `client-metrics-${process.pid}.cjs`);
  const withSdk = `export { start } from './src/agent';
export { requestMetrics } from './src/instrumentation/request-metrics';
export { RequestMetrics } from './src/metrics/request-recorder';`;
  const withoutSdk = `export { start } from './src/agent';
export { requestMetrics } from './src/instrumentation/request-metrics';`;
  const options = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18.19',
    outfile,
    logLevel: 'silent',
    external: ['@opentelemetry/api', 'import-in-the-middle', 'require-in-the-middle', 'semver', 'shimmer'],
  };
  try {
    await build({ ...options, stdin: { contents: withSdk, resolveDir: ROOT, loader: 'ts' } });
  } catch {
    await build({ ...options, stdin: { contents: withoutSdk, resolveDir: ROOT, loader: 'ts' } });
  }
  return outfile;
}

const bundled = await bundleAgent();
const agentModule = require(bundled);
const agent = agentModule.start({
  env: {
    OTEL_TRACES_SAMPLER: 'always_off',
    OTEL_TRACES_EXPORTER: 'none',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOG_LEVEL: 'error',
    OTEL_SERVICE_NAME: 'bench',
  },
});
if (agent === undefined) throw new Error('the agent did not start');

let counted = 0;
const counter = { httpServer: () => counted++, httpClient: () => counted++, dbClient: () => counted++ };
// BENCH_RECORDER=counter: the counter even when the SDK is there (what the instrumentations alone add).
const useCounter = agentModule.RequestMetrics === undefined || process.env.BENCH_RECORDER === 'counter';
const recorder = useCounter ? counter : new agentModule.RequestMetrics({ temporality: 2, cardinalityLimit: 2000, startTime: Date.now() });
const recorderName = useCounter ? 'call counter' : 'RequestMetrics (src/metrics)';

/** A loopback upstream in a process of its own, so that its CPU is not counted here. */
function startUpstream() {
  const child = spawn(
    process.execPath,
    ['-e', "const s=require('http').createServer((q,r)=>r.end('ok')).listen(0,'127.0.0.1',()=>console.log(s.address().port))"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve) => child.stdout.once('data', (data) => resolve({ port: Number(String(data).trim()), child })));
}

async function makeClient(kind, upstream) {
  switch (kind) {
    case 'http': {
      const http = require('node:http');
      const agentHttp = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const options = { host: '127.0.0.1', port: upstream.port, path: '/quote', agent: agentHttp };
      const call = () => new Promise((resolve, reject) => http.get(options, (res) => res.resume().once('end', resolve)).once('error', reject));
      return { call, close: () => agentHttp.destroy() };
    }
    case 'pg': {
      const pg = require('pg');
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await client.connect();
      return { call: () => client.query('SELECT $1::int AS n', [1]), close: () => client.end() };
    }
    case 'mysql2': {
      const mysql = require('mysql2/promise');
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
      return { call: () => connection.query('SELECT ? AS n', [1]), close: () => connection.end() };
    }
    case 'redis': {
      const { createClient } = require('redis');
      const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
      return { call: () => client.get('bench:calls'), close: () => client.quit() };
    }
    case 'ioredis': {
      const Redis = require('ioredis');
      const client = new Redis({ host: '127.0.0.1', port: 6379 });
      return { call: () => client.get('bench:calls'), close: () => client.quit() };
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function loop(clients, ms) {
  let calls = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(
    clients.map(async ({ call }) => {
      while (performance.now() - start < ms) {
        calls++;
        await call();
      }
    }),
  );
  const cpu = process.cpuUsage(cpuStart);
  return (cpu.user + cpu.system) / calls;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const { trace, context } = require('@opentelemetry/api');
const upstream = KINDS.includes('http') ? await startUpstream() : undefined;
console.log(`recorder: ${recorderName}; ${CONCURRENCY} callers, ${ROUNDS} rounds of ${SECONDS}s per setting, unsampled (always_off)`);
for (const kind of KINDS) {
  const clients = await Promise.all(Array.from({ length: CONCURRENCY }, () => makeClient(kind, upstream)));
  // An unsampled trace, as inside a request the sampler left out: the database instrumentations
  // measure calls that have a parent (OTEL_INSTRUMENTATION_DB_REQUIRE_PARENT_SPAN).
  const parent = trace.getTracer('bench').startSpan('request');
  const results = await context.with(trace.setSpan(context.active(), parent), async () => {
    const off = [];
    const on = [];
    agentModule.requestMetrics.recorder = recorder;
    await loop(clients, 1500);
    agentModule.requestMetrics.recorder = undefined;
    await loop(clients, 1500);
    for (let round = 0; round < ROUNDS; round++) {
      for (const metricsOn of round % 2 === 0 ? [false, true] : [true, false]) {
        agentModule.requestMetrics.recorder = metricsOn ? recorder : undefined;
        (metricsOn ? on : off).push(await loop(clients, SECONDS * 1000));
      }
    }
    agentModule.requestMetrics.recorder = undefined;
    return { off: median(off), on: median(on) };
  });
  parent.end();
  await Promise.all(clients.map(({ close }) => close()));
  console.log(
    `${kind.padEnd(8)} metrics off ${results.off.toFixed(2)} µs CPU/call, on ${results.on.toFixed(2)} µs CPU/call, ` +
      `difference ${(results.on - results.off).toFixed(2)} µs (${(((results.on - results.off) / results.off) * 100).toFixed(1)}%)`,
  );
}
upstream?.child.kill();
await agent.shutdown();
rmSync(bundled, { force: true });
