import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageModule } from '../../../src/loader/require-hook';

// Real installed packages: telling a main file from an internal one asks Node's own resolution.
const pgMain = require.resolve('pg');
const pgDir = join(dirname(pgMain), '..');
const apiMain = require.resolve('@opentelemetry/api');
const apiDir = apiMain.slice(0, apiMain.lastIndexOf('@opentelemetry')) + join('@opentelemetry', 'api');

describe('packageModule: the name a loaded file goes by, as the require hook names it', () => {
  it('names a package main file by the package, with its directory', () => {
    expect(packageModule(pgMain, new Set(['pg']), false)).toEqual({ name: 'pg', baseDir: pgDir });
    expect(packageModule(apiMain, new Set(['@opentelemetry/api']), false)).toEqual({ name: '@opentelemetry/api', baseDir: apiDir });
  });

  it('names another file of the package by its path inside it, only when internal files are asked for', () => {
    const client = join(pgDir, 'lib', 'client.js');
    expect(packageModule(client, new Set(['pg']), true)).toEqual({ name: 'pg/lib/client.js', baseDir: pgDir });
    expect(packageModule(client, new Set(['pg']), false)).toBeUndefined();
  });

  it('ignores packages nobody asked for and files outside node_modules', () => {
    expect(packageModule(pgMain, new Set(['redis']), true)).toBeUndefined();
    expect(packageModule(join(pgDir, '..', '..', 'src', 'index.ts'), new Set(['pg']), true)).toBeUndefined();
    expect(packageModule(join(pgDir, '..'), new Set(['pg']), true)).toBeUndefined();
  });

  it('goes by the innermost node_modules of a nested install', () => {
    const nested = join(pgDir, 'node_modules', 'pg', 'lib', 'index.js');
    expect(packageModule(nested, new Set(['pg']), true)?.baseDir).toBe(join(pgDir, 'node_modules', 'pg'));
  });
});
