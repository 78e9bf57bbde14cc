import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '../../src/version';

const ROOT = resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the project as a user meets it', () => {
  it('reports the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(AGENT_VERSION).toBe(pkg.version);
  });

  it('documents every OTEL_* and TRACELET_* variable the agent reads in the README table, with a default and an example', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const read = new Set<string>();
    for (const file of [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'instrumentations'))]) {
      for (const match of readFileSync(file, 'utf8').matchAll(/'((?:OTEL|TRACELET)_[A-Z0-9_]+)'/g)) read.add(match[1]!);
    }
    expect(read.size).toBeGreaterThan(30);
    expect(read).toContain('TRACELET_KEEP_ERRORS');
    for (const name of read) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
      expect(row, `${name} has a README row`).toBeDefined();
      const cells = row!.split('|').map((cell) => cell.trim());
      expect(cells[2], `${name} has a default`).not.toBe('');
      expect(cells[3], `${name} has an example`).not.toBe('');
    }
  });

  it('keeps runtime dependencies to the chosen few', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies).sort()).toEqual([
      '@opentelemetry/api',
      'import-in-the-middle',
      'require-in-the-middle',
      'semver',
      'shimmer',
    ]);
  });
});
