// Throughput and latency of the example services under load, with and without the agent,
// alternating the variants round after round so that machine noise hits all of them alike.
import { setTimeout as sleep } from 'node:timers/promises';
import { agentEnv, REGISTER_MJS, APPS_DIR, runLoad, startApp } from './lib/processes.mjs';
import { join } from 'node:path';

export const SCENARIOS = [
  { id: 'http-hello', title: 'node:http `/hello`', script: 'http-hello.mjs', path: '/hello', budget: 0.7 },
  { id: 'fastify-hello', title: 'Fastify `/hello`', script: 'fastify-app.mjs', path: '/hello', budget: 0.62 },
  {
    id: 'fastify-work',
    title: 'Fastify `/work` (pg + redis SET/GET + fetch)',
    script: 'fastify-app.mjs',
    path: '/work',
    budget: 0.9,
    upstream: true,
  },
];

export const BUSY_MICROS = 5;

/**
 * What each variant preloads. Between the baseline and the full agent, two steps tell where the
 * time goes: the platform's price of one active AsyncLocalStorage, and the agent with sampling
 * off (instrumentation and context propagation, no span recorded or exported). A calibration
 * variant, no agent but a fixed CPU cost per request, shows what such a cost does to throughput.
 *
 * Another agent (peers.mjs adds them for `--peers`) is a variant with `peer` set: `peerEnv(serviceName)`
 * is its whole environment, `counts(serviceName)` what its own receiver got ({ payloads, bytes,
 * spans, serverSpans }), and `settleMs` how long its last export may take after the load.
 */
export const VARIANTS = {
  baseline: { title: 'no agent', preload: () => [] },
  busy: {
    title: `no agent, ${BUSY_MICROS} µs busy loop per request`,
    preload: () => ['--import', join(APPS_DIR, 'busy-request.mjs')],
    env: { BENCH_BUSY_MICROS: String(BUSY_MICROS) },
  },
  als: { title: 'AsyncLocalStorage only', preload: () => ['--import', join(APPS_DIR, 'als-only.mjs')] },
  unsampled: {
    title: 'agent, sampler always_off',
    preload: () => ['--import', REGISTER_MJS],
    env: { OTEL_TRACES_SAMPLER: 'always_off' },
    agent: true,
  },
  // What the agent was before metrics and keep rules: sampling off, nothing measured per request.
  unsampledTracingOnly: {
    title: 'agent, sampler always_off, metrics and keep rules off',
    preload: () => ['--import', REGISTER_MJS],
    env: { OTEL_TRACES_SAMPLER: 'always_off', OTEL_METRICS_EXPORTER: 'none', TRACELET_KEEP_ERRORS: 'false' },
    agent: true,
  },
  ratio: {
    title: 'agent, sampler parentbased_traceidratio 0.01',
    preload: () => ['--import', REGISTER_MJS],
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' },
    agent: true,
  },
  agent: { title: 'agent, 100% sampled, OTLP export', preload: () => ['--import', REGISTER_MJS], agent: true, exports: true },
};

/**
 * Runs every scenario `rounds` times through `variants` and returns, per scenario, the runs of
 * each variant: { rps, p50, p99, requests, cpuPerRequest (µs the server spent per request),
 * memory, spans, serverSpans, valid }; a peer's also { payloads, bytes, stderr }.
 */
export async function measureThroughput({ receiver, node, rounds, warmupSeconds, seconds, variants, scenarios = SCENARIOS, log }) {
  const results = [];
  for (const scenario of scenarios) {
    const upstream = scenario.upstream ? await startApp({ script: 'upstream.mjs', node, cpu: '1' }) : undefined;
    const runs = Object.fromEntries(variants.map((variant) => [variant, []]));
    try {
      for (let round = 0; round < rounds; round++) {
        // Rotate the order each round: no variant always runs first on a cold machine.
        const order = variants.map((_, i) => variants[(i + round) % variants.length]);
        for (const variant of order) {
          const run = await measureRun({ scenario, variant, round, receiver, node, upstream, warmupSeconds, seconds });
          runs[variant].push(run);
          log(`  ${scenario.id} round ${round + 1} ${variant}: ${Math.round(run.rps)} req/s${run.valid ? '' : ` INVALID: ${run.problem}`}`);
        }
      }
    } finally {
      await upstream?.stop();
    }
    results.push({ scenario, runs });
  }
  return results;
}

let runCount = 0;

async function measureRun({ scenario, variant, round, receiver, node, upstream, warmupSeconds, seconds }) {
  const spec = VARIANTS[variant];
  // Unique per run (the newer-node section repeats the same scenarios): its spans are its own.
  const serviceName = `bench-${scenario.id}-${variant}-${round}-${++runCount}-${process.pid}`;
  const env = {
    ...(spec.agent ? agentEnv(serviceName, receiver.endpoint, spec.env) : spec.peer ? spec.peerEnv(serviceName) : spec.env),
    ...(upstream ? { UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/quote` } : {}),
  };
  const app = await startApp({ script: scenario.script, node, preload: spec.preload(), env });
  let warmup;
  let load;
  let memory;
  let cpuPerRequest;
  try {
    const url = `http://127.0.0.1:${app.port}${scenario.path}`;
    warmup = await runLoad({ url, seconds: warmupSeconds });
    const cpuBefore = await app.cpuMicros();
    load = await runLoad({ url, seconds });
    cpuPerRequest = ((await app.cpuMicros()) - cpuBefore) / load.requests;
    memory = await app.memory();
    if (spec.settleMs) await sleep(spec.settleMs);
  } finally {
    await (spec.peer ? stopWithGrace(app) : app.stop());
  }
  await sleep(300); // the last export the agent sent on its way out is being decoded
  const { spans, serverSpans, payloads, bytes } = spec.peer ? spec.counts(serviceName) : receiver.countsFor(serviceName);
  const served = warmup.requests + load.requests;
  const failures = warmup.failures + load.failures;
  let problem;
  if (failures > 0) problem = `${failures} failed requests; stderr: ${app.stderr().slice(0, 500)}`;
  else if (spec.exports && serverSpans < served) problem = `${served} requests served, ${serverSpans} server spans received`;
  // A peer may drop spans by design (a full queue); a run of it is valid when its export arrived.
  else if (spec.peer && (payloads === 0 || spans === 0)) problem = `nothing arrived from ${spec.peer}; stderr ends: ${app.stderr().slice(-500)}`;
  return {
    rps: load.rps,
    p50: load.p50,
    p99: load.p99,
    requests: served,
    cpuPerRequest,
    memory,
    spans,
    serverSpans,
    valid: problem === undefined,
    problem,
    ...(spec.peer ? { payloads, bytes, stderr: app.stderr().slice(0, 2000) } : {}),
  };
}

/** OpenTelemetry's register answers SIGTERM by shutting its SDK down and leaves the app running: SIGKILL follows, as from an orchestrator. */
async function stopWithGrace(app, graceMs = 3000) {
  const timer = setTimeout(() => app.child.kill('SIGKILL'), graceMs);
  await app.stop();
  clearTimeout(timer);
}
