// Memory under a collector outage: the agent's queue must stay bounded when nothing drains it.
// The service runs under load with its OTLP endpoint refusing connections, and its RSS is
// sampled all along.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { REGISTER_MJS, runLoad, startApp } from './lib/processes.mjs';

/** A loopback port nothing listens on: connections to it are refused. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** RSS samples (bytes) over `seconds` of load on the Fastify /hello with an unreachable collector. */
export async function measureOutage({ node, seconds, samples = 12 }) {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const app = await startApp({
    script: 'fastify-app.mjs',
    node,
    preload: ['--import', REGISTER_MJS],
    env: { OTEL_SERVICE_NAME: 'bench-outage', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
  });
  const rss = [];
  let load;
  try {
    const loading = runLoad({ url: `http://127.0.0.1:${app.port}/hello`, seconds });
    for (let i = 0; i < samples; i++) {
      await sleep((seconds * 1000) / samples);
      rss.push((await app.memory()).rss);
    }
    load = await loading;
  } finally {
    await app.stop();
  }
  const warnings = app
    .stderr()
    .split('\n')
    .filter((line) => line.startsWith('[tracelet]'));
  return { rss, requests: load.requests, failed: load.failures, warnings };
}
