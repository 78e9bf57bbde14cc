import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryIsEsm } from '../../../src/loader/import-hook';

function project(type: string | undefined, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'entry-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify(type === undefined ? { name: 'x' } : { name: 'x', type }));
  for (const [name, source] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), source);
  }
  return dir;
}

describe('entryIsEsm decides whether an application needs the import hook', () => {
  it('follows the file extension first', () => {
    const dir = project('module', { 'a.cjs': '', 'b.mjs': '' });
    expect(entryIsEsm(['node', join(dir, 'a.cjs')], [])).toBe(false);
    expect(entryIsEsm(['node', join(dir, 'b.mjs')], [])).toBe(true);
  });

  it('follows the nearest package.json type for .js files', () => {
    expect(entryIsEsm(['node', join(project('module', { 'src/app.js': '' }), 'src/app.js')], [])).toBe(true);
    expect(entryIsEsm(['node', join(project('commonjs', { 'app.js': 'import x from "y"' }), 'app.js')], [])).toBe(false);
  });

  it('looks for module syntax when package.json says nothing', () => {
    const dir = project(undefined, { 'esm.js': "import http from 'node:http';\n", 'cjs.js': "const http = require('http');\n" });
    expect(entryIsEsm(['node', join(dir, 'esm.js')], [])).toBe(true);
    expect(entryIsEsm(['node', join(dir, 'cjs.js')], [])).toBe(false);
  });

  it('has no ESM entry for -e and the REPL, unless the flags say so', () => {
    expect(entryIsEsm(['node'], [])).toBe(false);
    expect(entryIsEsm(['node'], ['--input-type=module'])).toBe(true);
    expect(entryIsEsm(['node', '/x/app.js'], ['--experimental-default-type=module'])).toBe(true);
  });
});
