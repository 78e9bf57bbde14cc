// Instructions per request and per call under valgrind's callgrind, for the throughput section's
// scenarios and variants and the micro-benchmarks' client calls. On a shared machine CPU time per
// request moves by 5-15 µs from run to run; instruction counts repeat within a per cent or two,
// steady enough to judge budgets of a few µs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { agentEnv, CLIENT_CPU, commandWorks, REGISTER_MJS, REPO_ROOT, runJson, startApp } from './lib/processes.mjs';
import { CALL_KINDS, CALL_VARIANTS, callAgentEnv } from './micro.mjs';
import { SCENARIOS, VARIANTS } from './throughput.mjs';

export const HAS_CALLGRIND = commandWorks('valgrind', ['--version']) && commandWorks('callgrind_control', ['--version']);
export const INSTRUCTION_VARIANTS = ['baseline', 'als', 'unsampledTracingOnly', 'unsampled', 'agent'];

// BENCH_CALLGRIND_SCALE (default 1) scales every count below, to try the section quickly.
const SCALE = Number(process.env.BENCH_CALLGRIND_SCALE ?? 1);
const count = (n) => Math.max(1, Math.round(n * SCALE));
// Sequential requests before the count starts: by then V8 has optimized what it will, and the
// agents' batches have reached their steady state (two runs agree within 1-2 %).
const WARMUP_REQUESTS = { hello: count(5000), work: count(4000) };
const REQUESTS = count(2000);
const WARMUP_CALLS = count(4000);
const CALLS = count(2000);
const CALLS_SCRIPT = join(REPO_ROOT, 'test', 'bench', 'micro', 'calls.mjs');
// Under valgrind the agent's last export on SIGTERM takes seconds, not milliseconds.
const STOP_GRACE_MS = 60_000;

/**
 * Node's options under callgrind, each of which takes a time-driven part of V8 out of the count.
 * --single-threaded: V8 compiles and collects garbage on the main thread, counted the same way
 * every run (on helper threads /work varied by ±10 %). --predictable-gc-schedule: fixed heap growth
 * and no memory reducer, whose timers, 30-50 times slower under valgrind, otherwise decide whether a
 * full collection falls into the 2000 requests counted (±6 % on /work). --no-incremental-marking:
 * a full collection is one call, left out of the count (see callgrind()).
 */
const NODE_OPTIONS = ['--single-threaded', '--predictable-gc-schedule', '--no-incremental-marking'];

/**
 * The command line that runs node under callgrind, its dumps in `dir`. Two one-time costs are left
 * out (collection toggles off on entering them and back on leaving), because whether one falls in
 * the counted window depends on what ran before it: the optimizing compiler (after the warm-up it
 * still optimizes the odd function that only now got hot, some 8 million instructions each, which
 * moved /work by ±8 % from run to run), and V8's full (mark-compact) collection, about 50 million
 * instructions once every few thousand calls, which moved a pg call by a third between two runs of
 * the same variant. Scavenges, the young generation's frequent collections, are counted; what the
 * agent adds to the old generation shows in the RSS figures.
 */
function callgrind(dir) {
  return [
    'valgrind',
    '--tool=callgrind',
    `--callgrind-out-file=${join(dir, 'cg.%p')}`,
    '--dump-instr=no',
    '--toggle-collect=v8::internal::Runtime_CompileOptimized*',
    '--toggle-collect=v8::internal::Heap::MarkCompact*',
    '--collect-atstart=yes', // after --toggle-collect, which turns it off
  ];
}

/**
 * Under valgrind a service answers some 50 requests a second, so the agent's batches would leave
 * on its 5 s timer, smaller each run the machine is slower; under load (the throughput section)
 * they leave full. A timer that never fires keeps them full and the count the same. Likewise the
 * metrics export, due every 60 s: 60 s under valgrind are some 3000 requests, so an export (a
 * one-time cost a minute, in a real service spread over that minute's requests) would land in
 * the counted window of one run and not of the next.
 */
const FULL_BATCHES = { OTEL_BSP_SCHEDULE_DELAY: String(3_600_000), OTEL_METRIC_EXPORT_INTERVAL: String(3_600_000) };

/**
 * Per scenario, each variant's { instructions (per request), requests, spans, serverSpans, valid },
 * and per call kind each call variant's { instructions (per call), spans, valid }. One run at a
 * time, on the server core: each request waits on the orchestrator, the upstream and the
 * databases, which a second valgrind would keep waiting for a core (two at a time took 2.5 times
 * as long as one after the other, and counted differently).
 */
export async function measureInstructions({ receiver, node, log }) {
  const started = performance.now();
  // One upstream for the `/work` route and the http calls, on the client core as elsewhere.
  const upstream = await startApp({ script: 'upstream.mjs', node, cpu: CLIENT_CPU });
  const scenarios = [];
  const callKinds = {};
  try {
    for (const scenario of SCENARIOS) {
      const variants = {};
      for (const variant of INSTRUCTION_VARIANTS) {
        const options = { scenario, variant, receiver, node, upstream: scenario.upstream ? upstream : undefined };
        variants[variant] = await attempt(() => countRequests(options));
        log(`  ${scenario.id} ${variant}: ${describe(variants[variant], 'request')}`);
      }
      scenarios.push({ scenario, variants });
    }
    for (const kind of CALL_KINDS) {
      callKinds[kind] = {};
      for (const variant of CALL_VARIANTS) {
        callKinds[kind][variant] = await attempt(() => countCalls({ kind, variant, receiver, node, upstream }));
        log(`  ${kind} ${variant}: ${describe(callKinds[kind][variant], 'call')}`);
      }
    }
  } finally {
    await upstream.stop();
  }
  const minutes = (performance.now() - started) / 60_000;
  return { requests: REQUESTS, warmupRequests: WARMUP_REQUESTS, calls: CALLS, warmupCalls: WARMUP_CALLS, scenarios, callKinds, minutes };
}

/** A run that failed (valgrind refused to attach, an app that crashed) is reported invalid, not thrown. */
async function attempt(measure) {
  const started = performance.now();
  try {
    return { ...(await measure()), seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    return { instructions: NaN, valid: false, problem: String(error.message ?? error).slice(0, 500) };
  }
}

function describe(run, unit) {
  return run.valid ? `${Math.round(run.instructions)} instructions per ${unit} (${Math.round(run.seconds)} s)` : `INVALID: ${run.problem}`;
}

/** Synchronous: the orchestrator sends nothing while the counters are zeroed or dumped. */
function control(action, pid) {
  execFileSync('callgrind_control', [action, String(pid)], { stdio: 'ignore' });
}

/** Instructions counted between zeroing and the first dump (`cg.<pid>.1`). */
function dumpedInstructions(dir) {
  const dump = readdirSync(dir).find((name) => name.endsWith('.1'));
  if (dump === undefined) throw new Error('callgrind wrote no dump');
  return Number(/^summary: (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'))[1]);
}

export async function countRequests({ scenario, variant, receiver, node, upstream }) {
  const spec = VARIANTS[variant];
  const serviceName = `bench-instructions-${scenario.id}-${variant}-${process.pid}`;
  const env = {
    ...(spec.agent ? agentEnv(serviceName, receiver.endpoint, { ...spec.env, ...FULL_BATCHES }) : spec.env),
    ...(upstream ? { UPSTREAM_URL: `http://127.0.0.1:${upstream.port}/quote` } : {}),
  };
  const warmup = WARMUP_REQUESTS[scenario.upstream ? 'work' : 'hello'];
  const dir = mkdtempSync(join(tmpdir(), 'tracelet-callgrind-'));
  try {
    const app = await startApp({ script: scenario.script, node, launcher: callgrind(dir), preload: [...NODE_OPTIONS, ...spec.preload()], env });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const url = `http://127.0.0.1:${app.port}${scenario.path}`;
    let failures;
    try {
      failures = await sendRequests(url, agent, warmup);
      await sleep(1500); // what the last warm-up requests left behind is done
      control('--zero', app.child.pid);
      failures += await sendRequests(url, agent, REQUESTS);
      await sleep(300);
      control('--dump', app.child.pid);
      await sleep(1000);
    } finally {
      agent.destroy();
      // SIGTERM: the agent exports the spans it still holds, for the check below.
      await app.stop({ graceMs: STOP_GRACE_MS });
    }
    const served = warmup + REQUESTS;
    const { spans, serverSpans } = receiver.countsFor(serviceName);
    let problem;
    if (failures > 0) problem = `${failures} failed requests; stderr: ${app.stderr().slice(-500)}`;
    else if (spec.exports && serverSpans < served) problem = `${served} requests served, ${serverSpans} server spans received`;
    return { instructions: dumpedInstructions(dir) / REQUESTS, requests: served, spans, serverSpans, valid: problem === undefined, problem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` GETs one after the other over one keep-alive connection; returns how many failed. */
async function sendRequests(url, agent, count) {
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const status = await new Promise((resolve, reject) => {
      http.get(url, { agent }, (res) => res.resume().once('end', () => resolve(res.statusCode))).once('error', reject);
    });
    if (status !== 200) failures++;
  }
  return failures;
}

/**
 * The micro-benchmarks' calls.mjs in its fixed-count mode, with the environment measureCalls gives
 * it (micro.mjs builds it inline, hence repeated here).
 */
export async function countCalls({ kind, variant, receiver, node, upstream }) {
  const serviceName = `bench-instructions-calls-${kind}-${process.pid}`;
  const agent = callAgentEnv(variant, serviceName, receiver.endpoint, FULL_BATCHES);
  const dir = mkdtempSync(join(tmpdir(), 'tracelet-callgrind-'));
  try {
    await runJson({
      node,
      launcher: callgrind(dir),
      script: CALLS_SCRIPT,
      args: [kind, '0'],
      preload: [...NODE_OPTIONS, ...(agent === undefined ? [] : ['--import', REGISTER_MJS])],
      env: {
        UPSTREAM_URL: `http://127.0.0.1:${upstream.port}`,
        BENCH_WARMUP_CALLS: String(WARMUP_CALLS),
        BENCH_CALLGRIND_CALLS: String(CALLS),
        // One caller: with several, how many replies one wake-up of the event loop handles depends
        // on timing, and the count moved by half between runs (pg 54K to 86K).
        BENCH_CONCURRENCY: '1',
        ...(variant === 'als' ? { BENCH_ALS: '1' } : {}),
        ...agent,
      },
    });
    // calls.mjs ends by itself: the agent exported everything before it exited.
    const { spans } = receiver.countsFor(serviceName);
    let problem;
    if (variant === 'wrapped' && spans < WARMUP_CALLS + CALLS) problem = `${WARMUP_CALLS + CALLS} calls made, ${spans} spans received`;
    else if (variant === 'unsampled' && spans > 0) problem = `${spans} spans exported with the sampler off`;
    return { instructions: dumpedInstructions(dir) / CALLS, spans, valid: problem === undefined, problem };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
