import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { agentLines, REPO_ROOT, runApp } from '../helpers/run-app';

/**
 * The README's install from a packed tarball, as a user does it: `npm pack` in the clone, `npm
 * install <tarball>` in the application, then `node --import tracelet/register` (and
 * `--require`) by package name. The tarball is packed from the build `npm test` made.
 */

let appDir: string;

beforeAll(() => {
  const work = mkdtempSync(join(tmpdir(), 'tracelet-install-'));
  const tarball = execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  }).trim();
  appDir = join(work, 'app');
  mkdirSync(appDir);
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'installed-app', version: '1.2.3', private: true }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(work, tarball)], { cwd: appDir, stdio: 'pipe' });
  writeFileSync(
    join(appDir, 'server.js'),
    [
      "const http = require('node:http');",
      "const server = http.createServer((req, res) => res.end('ok'));",
      "server.listen(0, '127.0.0.1', () => http.get(`http://127.0.0.1:${server.address().port}/`, (res) => res.resume().on('end', () => server.close())));",
    ].join('\n'),
  );
}, 120_000);

describe('installed from a packed tarball', () => {
  for (const flag of ['--import', '--require'] as const) {
    it(`starts with ${flag} tracelet/register and traces the application`, async () => {
      const result = await runApp({
        script: join(appDir, 'server.js'),
        cwd: appDir,
        preload: 'none',
        execArgv: [flag, 'tracelet/register'],
        env: { OTEL_TRACES_EXPORTER: 'console' },
      });
      expect(result.code, result.stderr).toBe(0);
      expect(agentLines(result.stderr)[0]).toMatch(/^\[tracelet\] info: tracelet \d+\.\d+\.\d+ started: service\.name=installed-app, /);
      expect(result.stdout).toMatch(/^trace [0-9a-f]{32} {2}service installed-app/m);
      expect(result.stdout).toMatch(/GET +server /);
    });
  }
});
