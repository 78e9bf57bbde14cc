import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const REGISTER_MJS = resolve(REPO_ROOT, 'register.mjs');
export const REGISTER_CJS = resolve(REPO_ROOT, 'register.cjs');
/** The applications the end-to-end tests run. */
export const FIXTURES = resolve(REPO_ROOT, 'test/e2e/fixtures');

/** The Node binary the applications run on: the test runner's own, or another (npm run test:compat). */
export const APP_NODE = process.env.TRACELET_TEST_NODE || process.execPath;
export const APP_NODE_VERSION =
  APP_NODE === process.execPath ? process.versions.node : execFileSync(APP_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();

/** How the agent is loaded into the child: the way a user would start it. */
export type Preload = 'import' | 'require' | 'both' | 'none';

export interface AppOptions {
  readonly script: string;
  readonly preload?: Preload;
  /** Extra variables; undefined removes one. OTEL_* of the test runner never leak into the child. */
  readonly env?: Record<string, string | undefined>;
  readonly args?: readonly string[];
  readonly execArgv?: readonly string[];
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export interface AppResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function preloadFlags(preload: Preload): string[] {
  switch (preload) {
    case 'import':
      return ['--import', REGISTER_MJS];
    case 'require':
      return ['--require', REGISTER_CJS];
    case 'both':
      return ['--require', REGISTER_CJS, '--import', REGISTER_MJS];
    case 'none':
      return [];
  }
}

export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('OTEL_') && key !== 'NODE_OPTIONS' && !key.startsWith('VITEST')) env[key] = value;
  }
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** A running child process, with helpers to wait for its output and its end. */
export class App {
  stdout = '';
  stderr = '';
  readonly exited: Promise<AppResult>;

  constructor(
    readonly child: ChildProcess,
    timeoutMs: number,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolveExit) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolveExit({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Sends the signal and resolves when the process has ended. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<AppResult> {
    this.child.kill(signal);
    return this.exited;
  }

  /** Resolves when stdout (or stderr) matches; rejects if the process ends first. */
  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this[stream].match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`process ended before ${pattern} appeared on ${stream}:\n${this.stdout}\n${this.stderr}`);
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on ${stream}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function startApp(options: AppOptions): App {
  const child = spawn(
    APP_NODE,
    [...preloadFlags(options.preload ?? 'import'), ...(options.execArgv ?? []), options.script, ...(options.args ?? [])],
    { cwd: options.cwd ?? REPO_ROOT, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new App(child, options.timeoutMs ?? 30_000);
}

export function runApp(options: AppOptions): Promise<AppResult> {
  return startApp(options).exited;
}

/** The agent's own lines in an application's stderr. */
export function agentLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('[tracelet]'));
}
