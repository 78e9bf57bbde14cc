// `npm run bench`: what the agent costs a real service, measured against the same service
// without it in the same run, written to test/bench/RESULTS.md.
//
//   npm run bench                     full run (about 35 minutes, an hour more with valgrind installed), writes test/bench/RESULTS.md
//   npm run bench -- --quick          smoke run (seconds): every section, short, prints the report
//   npm run bench -- --only startup,micro   some sections: throughput, newer-node, instructions, startup, outage,
//                                     micro, footprint (instructions: callgrind, needs valgrind; after throughput,
//                                     whose CPU times convert its instructions to µs; BENCH_CALLGRIND_SCALE=0.1
//                                     runs it with a tenth of the requests and calls)
//   npm run bench -- --rounds 5 --seconds 10 --out other.md
//   npm run bench -- --peers          also OpenTelemetry, Datadog and Elastic side by side (installs them
//                                     outside the repository on first use, see peers.mjs; never in CI);
//                                     writes test/bench/PEERS.md unless --quick or --out
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CAN_FETCH_NODE, nodeBinary } from '../compat/node-binary.mjs';
import { measureFootprint } from './footprint.mjs';
import { HAS_CALLGRIND, measureInstructions } from './instructions.mjs';
import { PeerReceiver } from './lib/peer-receiver.mjs';
import { CountingReceiver } from './lib/receiver.mjs';
import { CLIENT_CPU, LOAD_GENERATOR, PINNING, REPO_ROOT } from './lib/processes.mjs';
import { measureOutage } from './memory.mjs';
import { measureCalls, measureCore, measureMetrics } from './micro.mjs';
import { addPeerVariants, measurePeerFirstResponse, peerInstalls, peerStderr, peerVersions } from './peers.mjs';
import { renderReport } from './report.mjs';
import { measureEmptyStartup, measureFirstResponse } from './startup.mjs';
import { measureThroughput } from './throughput.mjs';

const SECTIONS = ['throughput', 'newer-node', 'instructions', 'startup', 'outage', 'micro', 'footprint'];
// Too slow for a smoke run: newer Node versions are downloaded, and callgrind runs 30-50x slower.
const FULL_RUN_ONLY = ['newer-node', 'instructions'];
// Node 22 keeps AsyncLocalStorage on promise hooks by default; Node 24 builds it on
// AsyncContextFrame, which the agent uses unchanged (it has nothing to switch).
const NEWER_NODES = ['22.23.3', '24.15.0'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    out: { type: 'string' },
    peers: { type: 'boolean', default: false },
  },
});

// The orchestrator (and the OTLP receiver in it) shares the client core, never the server's.
if (PINNING && process.env.TRACELET_BENCH_PINNED === undefined) {
  const result = spawnSync('taskset', ['-c', CLIENT_CPU, process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, TRACELET_BENCH_PINNED: '1' },
  });
  process.exit(result.status ?? 1);
}

const quick = args.quick;
const sections = new Set(args.only ? args.only.split(',') : SECTIONS.filter((section) => !quick || !FULL_RUN_ONLY.includes(section)));
for (const section of sections) if (!SECTIONS.includes(section)) throw new Error(`unknown section ${section}; one of ${SECTIONS.join(', ')}`);
const rounds = Number(args.rounds ?? (quick ? 1 : 3));
const seconds = Number(args.seconds ?? (quick ? 1.5 : 8));
const warmupSeconds = quick ? 0.5 : 2;
const node = process.execPath;
const log = (line) => console.error(line);

const results = {
  machine: {
    date: new Date().toISOString().slice(0, 10),
    cores: cpus().length, // not availableParallelism(): this process runs pinned to one core
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    pinning: PINNING,
    loadGenerator: LOAD_GENERATOR,
    quick,
    rounds,
    seconds,
    warmupSeconds,
  },
};

const receiver = await CountingReceiver.start();
const peerReceiver = args.peers ? await PeerReceiver.start() : undefined;
try {
  const peerVariants = args.peers ? addPeerVariants({ receiver: peerReceiver, log }) : [];
  if (args.peers) results.peers = { versions: peerVersions(), installs: peerInstalls() };
  if (sections.has('throughput')) {
    log('throughput: node:http /hello, Fastify /hello and /work');
    const variants = args.peers
      ? ['baseline', 'als', 'agent', ...peerVariants]
      : quick
        ? ['baseline', 'agent']
        : ['baseline', 'busy', 'als', 'unsampled', 'ratio', 'agent'];
    results.throughput = await measureThroughput({ receiver, node, rounds, warmupSeconds, seconds, variants, log });
    if (args.peers) for (const line of peerStderr(results.throughput)) log(`  stderr of ${line}`);
  }
  if (sections.has('newer-node') && CAN_FETCH_NODE) {
    results.newerNodes = [];
    for (const version of NEWER_NODES) {
      log(`throughput on Node ${version}`);
      const throughput = await measureThroughput({
        receiver,
        node: nodeBinary(version),
        rounds,
        warmupSeconds,
        seconds,
        variants: ['baseline', 'als', 'unsampled', 'agent'],
        log,
      });
      results.newerNodes.push({ version, throughput });
    }
  }
  if (sections.has('instructions')) {
    if (HAS_CALLGRIND) {
      log('instructions under callgrind (about an hour)');
      results.instructions = await measureInstructions({ receiver, node, log });
    } else {
      log('instructions: skipped, valgrind is not installed');
      results.instructions = { skipped: 'valgrind (with callgrind_control) is not installed' };
    }
  }
  if (sections.has('startup')) {
    log('startup');
    results.startup = {
      empty: measureEmptyStartup({ node, runs: quick ? 3 : 20 }),
      firstResponse: await measureFirstResponse({ node, runs: quick ? 2 : 10, receiver }),
    };
    if (args.peers) {
      log('startup: first response with each peer');
      results.peers.firstResponse = await measurePeerFirstResponse({ node, runs: quick ? 2 : 10, receiver: peerReceiver, tracingReceiver: receiver });
    }
  }
  if (sections.has('outage')) {
    const outageSeconds = quick ? 3 : 60;
    log(`memory: ${outageSeconds} s of load with the collector down`);
    results.outage = { seconds: outageSeconds, ...(await measureOutage({ node, seconds: outageSeconds })) };
  }
  if (sections.has('micro')) {
    log('micro-benchmarks');
    results.micro = {
      core: await measureCore({ node, quick }),
      metrics: await measureMetrics({ node, quick }),
      calls: await measureCalls({ node, rounds: quick ? 1 : 5, seconds: quick ? 0.5 : 3, warmupMs: quick ? 300 : 1500, log }),
    };
  }
  if (sections.has('footprint')) {
    log('install footprint');
    results.footprint = measureFootprint();
  }
  if (peerReceiver !== undefined) {
    for (const [request, count] of peerReceiver.unexpected) log(`  the peers' receiver answered 404 to ${count} × ${request}`);
    if (peerReceiver.failures > 0) log(`  the peers' receiver could not decode ${peerReceiver.failures} payloads`);
  }
} finally {
  await receiver.close();
  await peerReceiver?.close();
}

const report = renderReport(results);
// A --peers run has fewer variants: it must not replace the budgets' report.
const out = args.out ?? (quick ? undefined : join(REPO_ROOT, 'test', 'bench', args.peers ? 'PEERS.md' : 'RESULTS.md'));
if (out !== undefined) {
  writeFileSync(out, `${report}\n`);
  log(`written to ${out}`);
}
console.log(report);

// A run whose spans did not arrive measured nothing: fail, so CI's smoke run catches it.
const invalid = [
  ...[...(results.throughput ?? []), ...(results.newerNodes ?? []).flatMap(({ throughput }) => throughput)].flatMap(({ runs }) =>
    Object.values(runs).flat(),
  ),
  ...(results.instructions?.scenarios ?? []).flatMap(({ variants }) => Object.values(variants)),
  ...Object.values(results.instructions?.callKinds ?? {}).flatMap((variants) => Object.values(variants)),
].filter((run) => !run.valid);
if (invalid.length > 0) {
  log(`${invalid.length} invalid runs: ${invalid.map((run) => run.problem).join('; ')}`);
  process.exitCode = 1;
}
