// `npm run bench -- --peers` (never in CI): the incumbents beside tracelet, in the same rounds and
// scenarios, each started the zero-code way its vendor documents for an ES module application
// and exporting in its own protocol to a local stand-in of its backend (lib/peer-receiver.mjs).
//
// Each is installed on first use into a cache outside the repository (its node_modules must not
// meet the repository's), ~/.cache/tracelet-bench-peers/<peer>/, at the exact versions below so
// that runs stay comparable, and reused by later runs. Set TRACELET_BENCH_PEERS_DIR to move it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diskBytes, listPackages } from './footprint.mjs';
import { REGISTER_MJS, REPO_ROOT } from './lib/processes.mjs';
import { measureFirstResponseOf } from './startup.mjs';
import { VARIANTS } from './throughput.mjs';

export const PEERS_DIR =
  process.env.TRACELET_BENCH_PEERS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tracelet-bench-peers');

// Exporters that flush on a timer (dd-trace every 2 s, Elastic when its intake request ends) have
// their last batch out this long after the load, before the app is stopped; nothing is measured
// meanwhile. Not all of them flush on SIGTERM.
const SETTLE_MS = 3000;

/**
 * The newest release of each whose `engines` accepts Node 20 (the bench machine's), checked with
 * `npm view <package>@<version> engines`: auto-instrumentations-node 0.82.0 and dd-trace 6 need
 * Node >= 22. OpenTelemetry's ESM loader hook is pinned to the @opentelemetry/instrumentation
 * that auto-instrumentations-node 0.81.2 depends on, so that both share one import-in-the-middle.
 */
export const PEERS = {
  otel: {
    title: 'OpenTelemetry',
    how: '`--experimental-loader=@opentelemetry/instrumentation/hook.mjs --require @opentelemetry/auto-instrumentations-node/register`, OTLP/protobuf over HTTP (`/v1/traces`)',
    packages: { '@opentelemetry/auto-instrumentations-node': '0.81.2', '@opentelemetry/instrumentation': '0.223.0' },
    // OpenTelemetry's documented recipe for ES module applications: import-in-the-middle's loader
    // hook from @opentelemetry/instrumentation beside the zero-code register,
    // `--experimental-loader=@opentelemetry/instrumentation/hook.mjs --require @opentelemetry/auto-instrumentations-node/register`.
    preload: (resolve) => [
      `--experimental-loader=${pathToFileURL(resolve('@opentelemetry/instrumentation/hook.mjs')).href}`,
      '--require',
      resolve('@opentelemetry/auto-instrumentations-node/register'),
    ],
    env: (serviceName, endpoint) => ({
      OTEL_SERVICE_NAME: serviceName,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      // No cloud detectors: they would query metadata endpoints off the machine.
      OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process',
    }),
  },
  datadog: {
    title: 'Datadog',
    how: '`--import dd-trace/initialize.mjs`, MessagePack to a Datadog agent stand-in (`PUT /v0.4/traces`)',
    packages: { 'dd-trace': '5.132.0' },
    // Datadog's documented start for ES modules (Node >= 20.6): `--import dd-trace/initialize.mjs`.
    preload: (resolve) => ['--import', pathToFileURL(resolve('dd-trace/initialize.mjs')).href],
    // Its default export: MessagePack to a Datadog agent, here the receiver. Everything that is
    // not tracing is off. DD_TRACE_SAMPLE_RATE=1 keeps every trace; past its default rate limit
    // (100 traces/s) dd-trace still records and sends every trace, only marked for the agent to drop.
    env: (serviceName, endpoint) => ({
      DD_SERVICE: serviceName,
      DD_TRACE_AGENT_URL: endpoint,
      DD_TRACE_SAMPLE_RATE: '1',
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
      DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_RUNTIME_METRICS_ENABLED: 'false',
      DD_PROFILING_ENABLED: 'false',
      DD_APPSEC_ENABLED: 'false',
      DD_CRASHTRACKING_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false',
    }),
  },
  elastic: {
    title: 'Elastic APM',
    how: '`-r elastic-apm-node/start.js --experimental-loader=elastic-apm-node/loader.mjs`, gzipped ndjson to an APM server stand-in (`POST /intake/v2/events`)',
    packages: { 'elastic-apm-node': '4.18.0' },
    // Elastic's documented start for ES modules: `-r elastic-apm-node/start.js
    // --experimental-loader=elastic-apm-node/loader.mjs` (4.x ships no start.mjs).
    preload: (resolve) => [
      '--require',
      resolve('elastic-apm-node/start.js'),
      `--experimental-loader=${pathToFileURL(resolve('elastic-apm-node/loader.mjs')).href}`,
    ],
    // Its intake to a local APM server stand-in. An intake request ends after 2 s instead of 10 s
    // so that the last one is in before the app stops; under load the size limit ends them sooner.
    env: (serviceName, endpoint) => ({
      ELASTIC_APM_SERVICE_NAME: serviceName,
      ELASTIC_APM_SERVER_URL: endpoint,
      ELASTIC_APM_TRANSACTION_SAMPLE_RATE: '1',
      ELASTIC_APM_CLOUD_PROVIDER: 'none',
      ELASTIC_APM_CENTRAL_CONFIG: 'false',
      ELASTIC_APM_METRICS_INTERVAL: '0s',
      ELASTIC_APM_CAPTURE_BODY: 'off',
      ELASTIC_APM_LOG_LEVEL: 'error',
      ELASTIC_APM_API_REQUEST_TIME: '2s',
    }),
  },
};

export const PEER_NAMES = Object.keys(PEERS);

const peerDir = (peer) => join(PEERS_DIR, peer);
const PINS_FILE = '.bench-pins.json';

/** Installs a peer at its pinned versions unless its cache already holds exactly them. */
export function ensureInstalled(peer, log = () => {}) {
  const dir = peerDir(peer);
  const pins = JSON.stringify(PEERS[peer].packages);
  const pinsFile = join(dir, PINS_FILE);
  if (existsSync(pinsFile) && readFileSync(pinsFile, 'utf8') === pins && existsSync(join(dir, 'node_modules'))) return dir;
  log(`  installing ${peer} into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const specs = Object.entries(PEERS[peer].packages).map(([name, version]) => `${name}@${version}`);
  // All at once: a later --no-save install into the same prefix would prune the earlier ones.
  // No install scripts: every package here ships what it runs (dd-trace its prebuilt addons).
  execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', ...specs], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(pinsFile, pins);
  return dir;
}

/** Resolves a peer's module in its cache, never the repository's node_modules. */
function resolverFor(peer) {
  const require = createRequire(join(peerDir(peer), 'noop.js'));
  return (specifier) => require.resolve(specifier);
}

/**
 * Installs the peers and adds them to throughput.mjs's VARIANTS (see its `peer` fields), each
 * exporting to `receiver` (a PeerReceiver). Returns the variant names.
 */
export function addPeerVariants({ receiver, log }) {
  for (const peer of PEER_NAMES) {
    ensureInstalled(peer, log);
    const { title, packages, preload, env } = PEERS[peer];
    const version = Object.entries(packages)[0].join('@');
    const args = preload(resolverFor(peer));
    VARIANTS[peer] = {
      title: `${title} (${version})`,
      peer,
      preload: () => args,
      peerEnv: (serviceName) => env(serviceName, receiver.endpoint),
      counts: (serviceName) => receiver.countsFor(serviceName),
      settleMs: SETTLE_MS,
    };
  }
  return PEER_NAMES;
}

/** Milliseconds from spawn to the first answered /hello of the Fastify app: no agent, tracelet and each peer, in rotation. */
export function measurePeerFirstResponse({ node, runs, receiver, tracingReceiver }) {
  const variants = {
    bare: { preload: [], env: {} },
    tracelet: {
      preload: ['--import', REGISTER_MJS],
      env: { OTEL_SERVICE_NAME: 'bench-first-response', OTEL_EXPORTER_OTLP_ENDPOINT: tracingReceiver.endpoint },
    },
  };
  for (const peer of PEER_NAMES) {
    variants[peer] = { preload: PEERS[peer].preload(resolverFor(peer)), env: PEERS[peer].env(`bench-first-response-${peer}`, receiver.endpoint) };
  }
  return measureFirstResponseOf({ node, runs, variants });
}

/** What each peer's cache holds: { [peer]: { bytes, packages } }, measured as footprint.mjs measures tracelet. */
export function peerInstalls() {
  return Object.fromEntries(
    PEER_NAMES.map((peer) => {
      const modules = join(peerDir(peer), 'node_modules');
      return [peer, { bytes: diskBytes(modules), packages: listPackages(modules).length }];
    }),
  );
}

/**
 * What the report says of the agents compared: tracelet's version and, per peer, { title, how,
 * packages: { name: version } } with the versions read from the cache.
 */
export function peerVersions() {
  const versionIn = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  const versions = {
    tracelet: {
      title: `tracelet ${versionIn(REPO_ROOT)}`,
      how: '`--import tracelet/register.mjs`, OTLP/protobuf over HTTP (`/v1/traces`)',
      packages: {},
    },
  };
  for (const peer of PEER_NAMES) {
    const packages = {};
    for (const name of Object.keys(PEERS[peer].packages)) packages[name] = versionIn(join(peerDir(peer), 'node_modules', name));
    versions[peer] = { title: PEERS[peer].title, how: PEERS[peer].how, packages };
  }
  return versions;
}

/** Distinct stderr lines of the peers' throughput runs, for the log: their agents' warnings and errors. */
export function peerStderr(throughput) {
  const lines = new Map();
  for (const { runs } of throughput) {
    for (const [variant, list] of Object.entries(runs)) {
      if (!VARIANTS[variant].peer) continue;
      for (const run of list) {
        for (const line of (run.stderr ?? '').split('\n')) {
          if (line.trim() !== '') lines.set(`${variant}: ${line.replace(/^\(node:\d+\) /, '').slice(0, 300)}`, true);
        }
      }
    }
  }
  return [...lines.keys()];
}
