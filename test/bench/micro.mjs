// Micro-benchmarks: the agent's hot path in-process (bundled from src/ so it measures the
// shipped code), and each instrumented client call wrapped versus bare in child processes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { agentEnv, REGISTER_MJS, REPO_ROOT, runJson, startApp } from './lib/processes.mjs';
import { CountingReceiver } from './lib/receiver.mjs';

const CACHE = join(REPO_ROOT, 'node_modules', '.cache', 'tracelet-bench');
export const CALL_KINDS = ['http', 'pg', 'mysql2', 'redis', 'ioredis'];

export async function measureCore({ node, quick }) {
  return runMicro({ node, name: 'core', args: quick ? ['50', '1'] : ['400', '7'] });
}

/** The request duration metrics: ns per record and heap over a million records (test/bench/micro/metrics.ts). */
export async function measureMetrics({ node, quick }) {
  return runMicro({ node, name: 'metrics', preload: ['--expose-gc'], args: quick ? ['50', '1'] : ['400', '7'] });
}

/** Bundles test/bench/micro/<name>.ts with the agent's sources and runs it: its JSON output. */
async function runMicro({ node, name, preload, args }) {
  mkdirSync(CACHE, { recursive: true });
  const outfile = join(CACHE, `${name}.cjs`);
  await build({
    entryPoints: [join(REPO_ROOT, 'test', 'bench', 'micro', `${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18.19',
    logLevel: 'warning',
  });
  return runJson({ node, script: outfile, preload, args });
}

/**
 * Calls/s and CPU µs per call of each client call: bare, inside one AsyncLocalStorage (the
 * platform's floor for context propagation), with the agent sampling nothing (the calls of the
 * requests a sampling service does not record) and with the agent recording every call,
 * alternating over `rounds`.
 */
export const CALL_VARIANTS = ['bare', 'als', 'unsampled', 'wrapped'];

/** The agent's variables for a call variant that runs it, or undefined for one that does not. */
export function callAgentEnv(variant, serviceName, endpoint, extra = {}) {
  if (variant === 'wrapped') return agentEnv(serviceName, endpoint, extra);
  if (variant === 'unsampled') return agentEnv(serviceName, endpoint, { ...extra, OTEL_TRACES_SAMPLER: 'always_off' });
  return undefined;
}

export async function measureCalls({ node, rounds, seconds, warmupMs, log }) {
  const upstream = await startApp({ script: 'upstream.mjs', node, cpu: '1' });
  const receiver = await CountingReceiver.start({ decode: false });
  const results = {};
  const run = (kind, variant) => {
    const agent = callAgentEnv(variant, `bench-calls-${kind}`, receiver.endpoint);
    return runJson({
      node,
      script: join(REPO_ROOT, 'test', 'bench', 'micro', 'calls.mjs'),
      args: [kind, String(seconds)],
      preload: agent === undefined ? [] : ['--import', REGISTER_MJS],
      env: {
        UPSTREAM_URL: `http://127.0.0.1:${upstream.port}`,
        BENCH_WARMUP_MS: String(warmupMs),
        ...(variant === 'als' ? { BENCH_ALS: '1' } : {}),
        ...agent,
      },
    });
  };
  try {
    for (const kind of CALL_KINDS) {
      results[kind] = Object.fromEntries(
        CALL_VARIANTS.flatMap((variant) => [
          [variant, []],
          [`${variant}Cpu`, []],
        ]),
      );
      // One run thrown away first: a server that answers slowly while its own JIT warms up makes
      // the caller wake up once per answer, which costs it more CPU per call than later rounds.
      await run(kind, 'bare');
      for (let round = 0; round < rounds; round++) {
        const order = CALL_VARIANTS.map((_, i) => CALL_VARIANTS[(i + round) % CALL_VARIANTS.length]);
        for (const variant of order) {
          const { opsPerSecond, cpuMicrosPerCall } = await run(kind, variant);
          results[kind][variant].push(opsPerSecond);
          results[kind][`${variant}Cpu`].push(cpuMicrosPerCall);
          log(`  ${kind} ${variant}: ${Math.round(opsPerSecond)} calls/s, ${cpuMicrosPerCall.toFixed(1)} µs CPU per call`);
        }
      }
    }
  } finally {
    await upstream.stop();
    await receiver.close();
  }
  return results;
}
