// One client call in a loop, run with and without the agent: http.request to a local upstream,
// a pg query, a mysql2 query (MariaDB), a node-redis and an ioredis command. The loop runs inside an active span (as
// it would inside a traced request), so with the agent each call makes a client span.
// Usage: node calls.mjs <http|pg|mysql2|redis|ioredis> <seconds>; prints {"opsPerSecond", "cpuMicrosPerCall"}:
// calls per second of wall time (a round trip each, so noisy), and this process's CPU time per
// call (what the agent adds to it, whatever the servers and the machine do meanwhile).
import { trace } from '@opentelemetry/api';
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

async function loop(call, ms) {
  let calls = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < ms) {
    await call();
    calls++;
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    opsPerSecond: calls / ((performance.now() - start) / 1000),
    cpuMicrosPerCall: (cpu.user + cpu.system) / calls,
    ...(process.env.BENCH_DEBUG ? { user: cpu.user / calls, system: cpu.system / calls } : {}),
  };
}

const { call, close } = await client();
const result = await trace.getTracer('bench').startActiveSpan('calls', async (span) => {
  await loop(call, 300); // warm-up: connections, JIT
  const measured = await loop(call, seconds * 1000);
  span.end();
  return measured;
});
await close();
process.stdout.write(`${JSON.stringify(result)}\n`);
