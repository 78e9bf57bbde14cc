import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/env';
import { detectResource, processHost, type ResourceHost } from '../../../src/trace/resource';

let tmp: string;

beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'tracelet-resource-')));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Creates `relative` under a fresh project directory with the given text; returns the project root. */
function project(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(tmp, 'project-'));
  for (const [relative, text] of Object.entries(files)) {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return root;
}

const manifest = (fields: Record<string, unknown>) => JSON.stringify(fields);

/** The real file system, with the given script and working directory; no container lookups. */
function hostRunning(script: string | undefined, cwd: string, readFile?: ResourceHost['readFile']): ResourceHost {
  const real = processHost();
  return {
    ...real,
    platform: 'darwin',
    argv: script === undefined ? [process.execPath] : [process.execPath, script],
    cwd: () => cwd,
    readFile: readFile ?? real.readFile,
  };
}

/** service.name and service.version as detected without any OTEL_* configuration. */
function detectService(host: ResourceHost) {
  const { attributes } = detectResource(parseConfig({}).config, host);
  return { name: attributes['service.name'], version: attributes['service.version'] };
}

describe('application package.json discovery', () => {
  it('finds the package.json two levels above the entry script', () => {
    const root = project({
      'package.json': manifest({ name: '@acme/checkout', version: '1.2.3' }),
      'src/server/main.js': '',
    });
    const host = hostRunning(path.join(root, 'src/server/main.js'), '/');
    expect(detectService(host)).toEqual({ name: '@acme/checkout', version: '1.2.3' });
  });

  it('takes the nearest package.json when several enclose the script', () => {
    const root = project({
      'package.json': manifest({ name: 'monorepo', version: '0.0.0' }),
      'services/api/package.json': manifest({ name: 'api', version: '3.1.0' }),
      'services/api/lib/index.js': '',
    });
    const host = hostRunning(path.join(root, 'services/api/lib/index.js'), root);
    expect(detectService(host)).toEqual({ name: 'api', version: '3.1.0' });
  });

  it('resolves a relative script against the working directory', () => {
    const root = project({ 'package.json': manifest({ name: 'relative-app' }), 'src/main.js': '' });
    expect(detectService(hostRunning('src/main.js', root))).toEqual({ name: 'relative-app', version: undefined });
  });

  it('starts at the working directory when there is no script (node -e)', () => {
    const root = project({ 'package.json': manifest({ name: 'eval-app', version: '0.1.0' }), 'sub/dir/.keep': '' });
    expect(detectService(hostRunning(undefined, path.join(root, 'sub/dir')))).toEqual({
      name: 'eval-app',
      version: '0.1.0',
    });
  });

  it('finds the package.json of a directory given as the script (node .)', () => {
    const root = project({
      'package.json': manifest({ name: 'outer' }),
      'app/package.json': manifest({ name: 'dot-app', main: 'index.js' }),
      'app/index.js': '',
    });
    expect(detectService(hostRunning(path.join(root, 'app'), root)).name).toBe('dot-app');
  });

  it('skips a malformed package.json without throwing and keeps looking up', () => {
    const root = project({
      'package.json': manifest({ name: 'outer-app', version: '5.0.0' }),
      'pkg/package.json': '{ "name": "broken", ',
      'pkg/index.js': '',
    });
    const host = hostRunning(path.join(root, 'pkg/index.js'), root);
    expect(detectService(host)).toEqual({ name: 'outer-app', version: '5.0.0' });
  });

  it('passes over package.json files without a name (module-type markers)', () => {
    const root = project({
      'package.json': manifest({ name: 'named-app', version: '1.0.0' }),
      'dist/package.json': manifest({ type: 'module' }),
      'dist/main.js': '',
    });
    expect(detectService(hostRunning(path.join(root, 'dist/main.js'), root))).toEqual({
      name: 'named-app',
      version: '1.0.0',
    });
  });

  it('looks past a launcher inside node_modules to the project that installed it', () => {
    const root = project({
      'package.json': manifest({ name: 'web-frontend', version: '4.2.0' }),
      'node_modules/next/package.json': manifest({ name: 'next', version: '14.2.0' }),
      'node_modules/next/dist/bin/next': '',
    });
    const host = hostRunning(path.join(root, 'node_modules/next/dist/bin/next'), root);
    expect(detectService(host)).toEqual({ name: 'web-frontend', version: '4.2.0' });
  });

  it('falls back to unknown_service:node when no package.json exists up to the root', () => {
    const root = project({ 'a/b/app.js': '' });
    // Files outside the temporary tree count as absent, whatever this machine has above it.
    const readFile = (file: string) => (file.startsWith(root + path.sep) ? processHost().readFile(file) : undefined);
    const host = hostRunning(path.join(root, 'a/b/app.js'), root, readFile);
    expect(detectService(host)).toEqual({ name: 'unknown_service:node', version: undefined });
  });

  it('stops at the file system root', () => {
    const read: string[] = [];
    const readFile = (file: string) => {
      read.push(file);
      return undefined;
    };
    const systemRoot = path.parse(process.cwd()).root;
    detectService(hostRunning(path.join(systemRoot, 'srv', 'app.js'), systemRoot, readFile));
    expect(read).toEqual([
      path.join(systemRoot, 'srv', 'app.js', 'package.json'),
      path.join(systemRoot, 'srv', 'package.json'),
      path.join(systemRoot, 'package.json'),
    ]);
  });

  it('gives up after ten levels rather than walking an unbounded tree', () => {
    const deep = 'l1/l2/l3/l4/l5/l6/l7/l8/l9/l10/l11/app.js';
    const root = project({ 'package.json': manifest({ name: 'too-far' }), [deep]: '' });
    const read: string[] = [];
    const readFile = (file: string) => {
      read.push(file);
      return processHost().readFile(file);
    };
    expect(detectService(hostRunning(path.join(root, deep), root, readFile)).name).toBe('unknown_service:node');
    expect(read).toHaveLength(10);
  });
});
