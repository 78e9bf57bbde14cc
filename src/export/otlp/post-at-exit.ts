import type { Worker as WorkerType } from 'node:worker_threads';

/** Room for the helper thread to boot, on top of the request's own timeout. */
const THREAD_START_ALLOWANCE_MS = 1_000;

const STATUS_PENDING = 0;
const STATUS_NETWORK_ERROR = -1;

/**
 * Runs in a short-lived worker thread: POSTs the body and reports the HTTP status through shared
 * memory. Started without the parent's preload flags, so the agent does not start inside it.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { url, headers, body, timeoutMs, shared } = workerData;
const state = new Int32Array(shared);
const finish = (status) => { Atomics.store(state, 0, status); Atomics.notify(state, 0); };
const transport = url.startsWith('https:') ? require('node:https') : require('node:http');
const req = transport.request(url, { method: 'POST', headers, timeout: timeoutMs }, (res) => {
  res.resume();
  res.on('end', () => finish(res.statusCode || ${STATUS_NETWORK_ERROR}));
  res.on('error', () => finish(${STATUS_NETWORK_ERROR}));
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => finish(${STATUS_NETWORK_ERROR}));
req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
`;

export type ExitPostOutcome = { readonly status: number } | { readonly failure: 'network' | 'timeout' };

/**
 * POSTs synchronously, for the process 'exit' event where the event loop no longer runs: the
 * request is made by a worker thread while this thread waits, for at most timeoutMs (plus the
 * thread's start-up).
 */
export function postAtExit(url: string, headers: Record<string, string>, body: Uint8Array, timeoutMs: number): ExitPostOutcome {
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const shared = new SharedArrayBuffer(4);
  const state = new Int32Array(shared);
  let worker: WorkerType | undefined;
  try {
    worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      env: { ...process.env, OTEL_SDK_DISABLED: 'true', NODE_OPTIONS: '' },
      workerData: { url, headers: { ...headers, 'Content-Length': String(body.byteLength) }, body, timeoutMs, shared },
      stdout: true,
      stderr: true,
    });
    Atomics.wait(state, 0, STATUS_PENDING, timeoutMs + THREAD_START_ALLOWANCE_MS);
  } finally {
    void worker?.terminate();
  }
  const status = Atomics.load(state, 0);
  if (status === STATUS_PENDING) return { failure: 'timeout' };
  if (status === STATUS_NETWORK_ERROR) return { failure: 'network' };
  return { status };
}
