// Runs the official W3C Trace Context test suite (github.com/w3c/trace-context, test/) against a
// service under the agent, once per outgoing client (fetch, http.request), at the suite's default
// strictness and at spec level 2. Not part of `npm test`: the suite is not vendored, and it needs
// Python with aiohttp (Debian: python3-aiohttp).
//
//   node test/conformance/w3c-trace-context.mjs /path/to/trace-context/test
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const suite = process.argv[2];
if (!suite || !existsSync(join(suite, 'test.py'))) {
  console.error('usage: node test/conformance/w3c-trace-context.mjs <directory holding the suite’s test.py>');
  process.exit(2);
}
const python = process.env.PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

function startService(client, port) {
  const child = spawn(process.execPath, ['--import', join(root, 'register.mjs'), join(root, 'test/conformance/w3c-service.mjs')], {
    env: { ...process.env, W3C_CLIENT: client, W3C_SERVICE_PORT: String(port), OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: `w3c-${client}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolveStarted, reject) => {
    child.once('error', reject);
    child.stdout.once('data', () => resolveStarted(child));
  });
}

function runSuite(port) {
  return new Promise((resolveRun) => {
    const harness = spawn(python, ['test.py', `http://127.0.0.1:${port}/test`], {
      cwd: suite,
      env: { ...process.env, SPEC_LEVEL: '2' },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    let output = '';
    harness.stderr.on('data', (chunk) => {
      output += chunk;
      process.stderr.write(chunk);
    });
    harness.on('close', (code) => resolveRun({ code, summary: output.match(/^(Ran \d+ tests.*|OK.*|FAILED.*)$/gm) ?? [] }));
  });
}

let failed = false;
for (const [client, port] of [
  ['fetch', 5000],
  ['http', 5001],
]) {
  console.log(`\n=== outgoing client: ${client} ===`);
  const service = await startService(client, port);
  const { code, summary } = await runSuite(port);
  service.kill();
  console.log(`=== ${client}: ${summary.join(' / ')} (exit ${code}) ===`);
  if (code !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
