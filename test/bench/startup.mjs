// Startup cost: an empty script with and without the agent, and the time from spawning the
// Fastify app to its first answered request. Runs alternate so drift hits both sides alike.
import { spawn, spawnSync } from 'node:child_process';
import { get } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { APPS_DIR, REGISTER_MJS, REPO_ROOT, cleanEnv } from './lib/processes.mjs';

const REGISTER_CJS = join(REPO_ROOT, 'register.cjs');

export const STARTUP_VARIANTS = {
  bare: [],
  import: ['--import', REGISTER_MJS],
  require: ['--require', REGISTER_CJS],
};

/** Milliseconds of each `node [preload] -e 0` run, per variant. */
export function measureEmptyStartup({ node, runs }) {
  const env = cleanEnv({ OTEL_SERVICE_NAME: 'bench-startup' });
  const times = Object.fromEntries(Object.keys(STARTUP_VARIANTS).map((variant) => [variant, []]));
  spawnSync(node, ['-e', '0'], { env }); // page the binary in before the first timed run
  for (let run = 0; run < runs; run++) {
    for (const [variant, preload] of Object.entries(STARTUP_VARIANTS)) {
      const start = process.hrtime.bigint();
      const result = spawnSync(node, [...preload, '-e', '0'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      // The agent's one info line at start is expected; anything else (a warning) is a failure.
      const unexpected = result.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('[tracelet] info:'));
      if (result.status !== 0 || unexpected.length > 0) throw new Error(`node ${preload.join(' ')} -e 0 failed: ${result.stderr}`);
      times[variant].push(ms);
    }
  }
  return times;
}

/** Milliseconds from spawning the Fastify app to its first 200 on /hello, without and with the agent. */
export async function measureFirstResponse({ node, runs, receiver }) {
  const times = { bare: [], import: [] };
  for (let run = 0; run < runs; run++) {
    for (const variant of run % 2 === 0 ? ['bare', 'import'] : ['import', 'bare']) {
      const env = { OTEL_SERVICE_NAME: 'bench-first-response', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint };
      times[variant].push(await firstResponse(node, STARTUP_VARIANTS[variant], env));
    }
  }
  return times;
}

/**
 * The same for any set of variants ({ [name]: { preload, env } }), rotating their order run after
 * run; for the other agents of `--peers` (peers.mjs), whose stderr is not shown.
 */
export async function measureFirstResponseOf({ node, runs, variants }) {
  const names = Object.keys(variants);
  const times = Object.fromEntries(names.map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + run) % names.length];
      times[name].push(await firstResponse(node, variants[name].preload, variants[name].env, 'ignore'));
    }
  }
  return times;
}

async function firstResponse(node, preload, extraEnv, stderr = 'inherit') {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = cleanEnv({ PORT: String(port), ...extraEnv });
  const start = process.hrtime.bigint();
  const child = spawn(node, [...preload, join(APPS_DIR, 'fastify-app.mjs')], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', stderr, 'ipc'] });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`fastify-app exited with ${child.exitCode}`);
      if (await answers(port)) return Number(process.hrtime.bigint() - start) / 1e6;
      await sleep(2);
    }
  } finally {
    await new Promise((resolve) => {
      // An agent may keep the app alive after SIGTERM (OpenTelemetry's register does): SIGKILL follows.
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

function answers(port) {
  return new Promise((resolve) => {
    get({ host: '127.0.0.1', port, path: '/hello', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200));
    }).once('error', () => resolve(false));
  });
}
