// Child processes of the benchmark: applications (with or without the agent), the load
// generator, and CPU pinning so that the server and the load generator do not share a core.
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const REGISTER_MJS = join(REPO_ROOT, 'register.mjs');
export const APPS_DIR = join(REPO_ROOT, 'test', 'bench', 'apps');
const AUTOCANNON = join(REPO_ROOT, 'node_modules', 'autocannon', 'autocannon.js');

function hasTaskset() {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The server gets core 0 to itself; the load generator, the receiver and the upstream share
 * core 1. On one core, or without taskset, nothing is pinned (and the report says so).
 */
export const PINNING =
  process.env.TRACELET_BENCH_PINNED === '1' || // the orchestrator, re-run pinned to the client core
  (availableParallelism() >= 2 && hasTaskset());
export const SERVER_CPU = '0';
export const CLIENT_CPU = '1';

/** argv for `command` pinned to `cpu` when pinning is possible. */
export function pinned(cpu, command, args) {
  return PINNING ? ['taskset', ['-c', cpu, command, ...args]] : [command, args];
}

/** argv for `node` with `args`, run by `launcher` (a command line that runs another, such as valgrind's) if any, pinned to `cpu`. */
function nodeCommand(cpu, launcher, node, args) {
  const [command, ...rest] = [...launcher, node, ...args];
  return pinned(cpu, command, rest);
}

/** The environment of a child: ours minus anything that would configure or preload an agent. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OTEL_') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return { ...env, ...extra };
}

/** The agent's environment for one run: 100% sampling, OTLP/protobuf to the bench receiver. */
export function agentEnv(serviceName, endpoint, extra = {}) {
  return { OTEL_SERVICE_NAME: serviceName, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...extra };
}

/**
 * Starts an application that prints `{"port":N}` on stdout once it listens, and answers
 * 'memory' messages on its IPC channel with process.memoryUsage().
 */
export async function startApp({ script, node = process.execPath, preload = [], env = {}, cpu = SERVER_CPU, args = [], launcher = [] }) {
  const [command, argv] = nodeCommand(cpu, launcher, node, [...preload, join(APPS_DIR, script), ...args]);
  const child = spawn(command, argv, { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const port = await new Promise((resolvePort, reject) => {
    let stdout = '';
    const onData = (chunk) => {
      stdout += chunk;
      const match = /\{"port":(\d+)\}/.exec(stdout);
      if (match) {
        child.stdout.off('data', onData);
        resolvePort(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${script} exited (${code ?? signal}) before listening:\n${stderr}`)));
  });
  child.stdout.resume();
  return {
    port,
    child,
    stderr: () => stderr,
    memory: () => ask(child, 'memory'),
    /** CPU time the application has used so far, user + system, in µs. */
    cpuMicros: () => ask(child, 'cpu').then(({ user, system }) => user + system),
    /**
     * SIGTERM, as an orchestrator stops a service; the agent flushes its spans on the way out.
     * With graceMs, SIGKILL follows if the application is still running then, as from an orchestrator.
     */
    stop: ({ graceMs } = {}) =>
      new Promise((resolveExit) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
        const timer = graceMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolveExit();
        });
        child.kill('SIGTERM');
      }),
  };
}

function ask(child, question) {
  return new Promise((resolveAnswer) => {
    child.once('message', resolveAnswer);
    child.send(question);
  });
}

/**
 * The load generator: wrk when installed (C, light enough that the server stays the bottleneck
 * on two cores), else autocannon from npm (a Node process: on a slow machine it may saturate
 * its core before the server does, which the report points out).
 */
export const LOAD_GENERATOR = commandWorks('wrk', ['--version']) ? 'wrk' : 'autocannon';

/** Whether `command` is installed (it ran, whatever its exit status). */
export function commandWorks(command, args) {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch (error) {
    return error.status !== undefined && error.code !== 'ENOENT'; // wrk --version exits 1
  }
}

/** Loads `url` for `seconds` with `connections` keep-alive connections: { rps, requests, failures, p50, p99 } (ms). */
export async function runLoad({ url, connections = 10, seconds }) {
  if (LOAD_GENERATOR === 'wrk') {
    const script = join(REPO_ROOT, 'test', 'bench', 'lib', 'wrk-report.lua');
    const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '-s', script, url];
    const result = await runJsonCommand(...pinned(CLIENT_CPU, 'wrk', args));
    return {
      rps: result.requests / (result.durationUs / 1e6),
      requests: result.requests,
      failures: result.socketErrors + result.non2xx,
      p50: result.p50 / 1000,
      p99: result.p99 / 1000,
    };
  }
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(seconds), '-j', url];
  const result = await runJsonCommand(...pinned(CLIENT_CPU, process.execPath, args));
  return {
    rps: result.requests.average,
    requests: result['2xx'],
    failures: result.non2xx + result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

/** Runs a script to completion and returns its stdout parsed as JSON. */
export function runJson({ node = process.execPath, preload = [], script, args = [], env = {}, cpu = SERVER_CPU, launcher = [] }) {
  return runJsonCommand(...nodeCommand(cpu, launcher, node, [...preload, script, ...args]), env);
}

/** Runs a command to completion and parses the last line of its stdout as JSON. */
function runJsonCommand(command, argv, env = {}) {
  return new Promise((resolveResult, reject) => {
    const child = spawn(command, argv, { cwd: REPO_ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => {
      try {
        resolveResult(JSON.parse(stdout.trim().split('\n').pop()));
      } catch {
        reject(new Error(`${argv.join(' ')} failed (${code}):\n${stderr}`));
      }
    });
  });
}
