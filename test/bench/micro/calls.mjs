// One client call in a loop, run with and without the agent: http.request to a local upstream,
// a pg query, a mysql2 query (MariaDB), a node-redis and an ioredis command. The loops run inside
// an active span (as they would inside a traced request), so with the agent each call makes a
// client span. Each caller has its own connection (a pool would add spans of its own).
// Usage: node calls.mjs <http|pg|mysql2|redis|ioredis> <seconds>; prints {"opsPerSecond", "cpuMicrosPerCall"}:
// calls per second of wall time (a round trip each, so noisy), and this process's CPU time per
// call (what the agent adds to it, whatever the servers and the machine do meanwhile).
// Under callgrind (instructions.mjs), BENCH_CALLGRIND_CALLS=N: after BENCH_WARMUP_CALLS calls, callgrind's
// counters are zeroed, exactly N calls made and the counters dumped, for instructions per call.
import { trace } from '@opentelemetry/api';
import { execFileSync } from 'node:child_process';
import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';

const [kind, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);

async function client() {
  switch (kind) {
    case 'http': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const url = new URL(process.env.UPSTREAM_URL);
      const options = { host: url.hostname, port: url.port, path: '/quote', agent };
      const call = () =>
        new Promise((resolve, reject) => {
          http.get(options, (res) => res.resume().once('end', resolve)).once('error', reject);
        });
      return { call, close: () => agent.destroy() };
    }
    case 'pg': {
      const { default: pg } = await import('pg');
      const pgClient = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await pgClient.connect();
      return { call: () => pgClient.query('SELECT $1::int AS n', [1]), close: () => pgClient.end() };
    }
    case 'redis': {
      const { createClient } = await import('redis');
      const redis = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
      return { call: () => redis.get('bench:calls'), close: () => redis.quit() };
    }
    case 'ioredis': {
      const { default: Redis } = await import('ioredis');
      const redis = new Redis({ host: '127.0.0.1', port: 6379 });
      return { call: () => redis.get('bench:calls'), close: () => redis.quit() };
    }
    case 'mysql2': {
      const { default: mysql } = await import('mysql2/promise');
      const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test' });
      return { call: () => connection.query('SELECT ? AS n', [1]), close: () => connection.end() };
    }
    default:
      throw new Error(`unknown call kind ${kind}`);
  }
}

// Several callers at once (BENCH_CONCURRENCY, default 8), as in a busy service: the process
// stays busy, so its CPU per call is the work done rather than the cost of waking up for each
// round trip, which a lone sequential caller pays and which varies from run to run.
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 1500);
const CALLGRIND_CALLS = Number(process.env.BENCH_CALLGRIND_CALLS ?? 0);
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 0);
// Synchronous, so that no call runs while the counters are zeroed or dumped.
const callgrind = (action) => execFileSync('callgrind_control', [action, String(process.pid)], { stdio: 'ignore' });

/** Calls for `ms`, or until `count` calls have started (all of them finish). */
async function loop(ms, count = Infinity) {
  let calls = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const caller = async ({ call }) => {
    while (calls < count && performance.now() - start < ms) {
      calls++;
      await call();
    }
  };
  await Promise.all(clients.map(caller));
  const cpu = process.cpuUsage(cpuStart);
  return {
    opsPerSecond: calls / ((performance.now() - start) / 1000),
    cpuMicrosPerCall: (cpu.user + cpu.system) / calls,
    ...(process.env.BENCH_DEBUG ? { user: cpu.user / calls, system: cpu.system / calls } : {}),
  };
}

// BENCH_ALS=1 (without the agent): the loop runs inside one active AsyncLocalStorage, the price
// the platform charges for context propagation whoever pays it; the agent's own cost is above it.
const inContext = process.env.BENCH_ALS === '1' ? (fn) => new AsyncLocalStorage().run({}, fn) : (fn) => fn();
const clients = await Promise.all(Array.from({ length: CONCURRENCY }, client));
const result = await inContext(() =>
  trace.getTracer('bench').startActiveSpan('calls', async (span) => {
    // Warm-up to the steady state: the agent brings more code for V8 to optimize, and its
    // background compiler threads count in this process's CPU time while they work.
    if (CALLGRIND_CALLS > 0) {
      await loop(Infinity, WARMUP_CALLS);
      callgrind('--zero');
      const measured = await loop(Infinity, CALLGRIND_CALLS);
      callgrind('--dump');
      span.end();
      return measured;
    }
    await loop(WARMUP_MS);
    const measured = await loop(seconds * 1000);
    span.end();
    return measured;
  }),
);
await Promise.all(clients.map(({ close }) => close()));
process.stdout.write(`${JSON.stringify(result)}\n`);
