import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import type { Instrumentation, ModulePatch } from '../../../src/instrumentation/types';
import { PatchRegistry, type RegisteredPatch } from '../../../src/loader/registry';
import { instrumentationContext } from '../../helpers/instrumentation-context';

const messages: string[] = [];
diag.setSink((line) => messages.push(line));
diag.setLevel('debug');
afterEach(() => {
  messages.length = 0;
});

const context = instrumentationContext({ name: 'test' }, trace.getTracer('test'));

function packageDir(name: string, version: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'registry-')), 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  return dir;
}

function registryWith(instrumentationName: string, ...patches: ModulePatch[]) {
  const instrumentation: Instrumentation = { name: instrumentationName, patches };
  const entries: RegisteredPatch[] = patches.map((patch) => ({ instrumentation, patch, context }));
  return new PatchRegistry(entries);
}

/** A patch that records what it was given and wraps `greet`. */
function recordingPatch(overrides: Partial<ModulePatch> = {}) {
  const calls: Array<{ exports: unknown; version: string; viaImport: boolean }> = [];
  const patch: ModulePatch = {
    module: 'fake-lib',
    versions: '>=1 <2',
    patch(exports: { greet: (...args: unknown[]) => string }, _ctx, target) {
      calls.push({ exports, version: target.version, viaImport: target.viaImport });
      const original = exports.greet;
      exports.greet = (...args: unknown[]) => `patched ${original(...args)}`;
      return undefined;
    },
    ...overrides,
  };
  return { patch, calls };
}

describe('PatchRegistry', () => {
  it('patches a module whose version is in range, once per exports object', () => {
    const dir = packageDir('fake-lib', '1.4.2');
    const { patch, calls } = recordingPatch();
    const registry = registryWith('fake', patch);
    const exports = { greet: (n: string) => `hi ${n}` };
    expect(registry.onRequire(exports, 'fake-lib', dir)).toBe(exports);
    registry.onRequire(exports, 'fake-lib', dir);
    expect(calls).toEqual([{ exports, version: '1.4.2', viaImport: false }]);
    expect(exports.greet('ann')).toBe('patched hi ann');
    expect(registry.seen.has('fake-lib')).toBe(true);
    expect(messages.some((m) => m.includes('debug: fake: patched fake-lib@1.4.2'))).toBe(true);
  });

  it('leaves a version outside the range untouched and says so once', () => {
    const dir = packageDir('fake-lib', '2.0.0');
    const { patch, calls } = recordingPatch();
    const registry = registryWith('fake', patch);
    const exports = { greet: (n: string) => `hi ${n}` };
    registry.onRequire(exports, 'fake-lib', dir);
    registry.onRequire({ greet: exports.greet }, 'fake-lib', dir);
    expect(calls).toEqual([]);
    expect(exports.greet('bo')).toBe('hi bo');
    const notes = messages.filter((m) => m.includes('outside what the fake instrumentation supports'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('fake-lib@2.0.0');
    expect(notes[0]).toContain('>=1 <2');
  });

  it('matches internal files by path inside the package, whatever the separator', () => {
    const dir = packageDir('fake-lib', '1.0.0');
    const main = recordingPatch();
    const internal = recordingPatch({ file: 'lib/impl.js' });
    const registry = registryWith('fake', main.patch, internal.patch);
    const implExports = { greet: () => 'impl' };
    registry.onRequire(implExports, 'fake-lib\\lib\\impl.js', dir);
    registry.onRequire({ greet: () => 'other' }, 'fake-lib/lib/other.js', dir);
    expect(internal.calls.map((c) => c.exports)).toEqual([implExports]);
    expect(main.calls).toEqual([]);
  });

  it('prefers the longest module name (scoped packages and subpaths)', () => {
    const dir = packageDir('@scope/pkg', '1.0.0');
    const scoped = recordingPatch({ module: '@scope/pkg', file: 'dist/index.js' });
    const registry = registryWith('scoped', scoped.patch);
    registry.onRequire({ greet: () => 'x' }, '@scope/pkg/dist/index.js', dir);
    expect(scoped.calls).toHaveLength(1);
  });

  it('uses the Node version for builtins', () => {
    const builtin = recordingPatch({ module: 'fake-builtin', versions: '>=18' });
    const registry = registryWith('builtin', builtin.patch);
    registry.onRequire({ greet: () => 'x' }, 'fake-builtin', undefined);
    expect(builtin.calls[0]!.version).toBe(process.versions.node);
  });

  it('lets a patch replace the exports, and recognises the replacement as patched', () => {
    const dir = packageDir('fake-lib', '1.0.0');
    let calls = 0;
    const replacing: ModulePatch = {
      module: 'fake-lib',
      versions: '*',
      patch(exports: (...args: unknown[]) => number) {
        calls++;
        const replacement = (...args: unknown[]) => exports(...args) + 1;
        return replacement;
      },
    };
    const registry = registryWith('replace', replacing);
    const original = () => 1;
    const replaced = registry.onRequire(original, 'fake-lib', dir);
    expect(replaced()).toBe(2);
    expect(registry.onRequire(replaced, 'fake-lib', dir)).toBe(replaced);
    expect(calls).toBe(1);
  });

  it('contains a patch that throws: the module loads unpatched, unpatch runs, the failure is reported once', () => {
    const dir = packageDir('fake-lib', '1.0.0');
    let unpatched = 0;
    const broken: ModulePatch = {
      module: 'fake-lib',
      versions: '*',
      patch(exports: { greet?: () => string }) {
        exports.greet = () => 'half-patched';
        throw new Error('library internals changed');
      },
      unpatch(exports: { greet?: () => string }) {
        unpatched++;
        delete exports.greet;
      },
    };
    const registry = registryWith('broken', broken);
    const exports: Record<string, unknown> = { greet: () => 'hi' };
    expect(() => registry.onRequire(exports, 'fake-lib', dir)).not.toThrow();
    registry.onRequire({ greet: () => 'again' }, 'fake-lib', dir);
    expect(unpatched).toBe(2);
    const errors = messages.filter((m) => m.includes('error: broken: patching fake-lib@1.0.0 failed'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('library internals changed');
  });

  it('gives patches the default export of a CommonJS module imported from ESM, and updates named exports', () => {
    const dir = packageDir('fake-lib', '1.0.0');
    const { patch, calls } = recordingPatch();
    const registry = registryWith('fake', patch);
    const cjs = { greet: (n: string) => `hi ${n}`, other: 1 };
    const namespace: Record<string, unknown> = { default: cjs, greet: cjs.greet, other: 1 };
    registry.onImport(namespace, 'fake-lib', dir, 'commonjs');
    expect(calls[0]!.exports).toBe(cjs);
    expect(calls[0]!.viaImport).toBe(true);
    expect((namespace.greet as (name: string) => string)('x')).toBe('patched hi x');
    expect(namespace.default).toBe(cjs);
    // The same module reached through require afterwards is not patched again.
    registry.onRequire(cjs, 'fake-lib', dir);
    expect(calls).toHaveLength(1);
  });

  it('gives patches the namespace itself for a real ES module', () => {
    const dir = packageDir('fake-lib', '1.0.0');
    const { patch, calls } = recordingPatch();
    const registry = registryWith('fake', patch);
    const namespace: Record<string, unknown> = { greet: (n: string) => `esm ${n}` };
    registry.onImport(namespace, 'fake-lib', dir, 'module');
    expect(calls[0]!.exports).toBe(namespace);
    expect((namespace.greet as (name: string) => string)('y')).toBe('patched esm y');
  });

  it('reports the modules to hook and whether internal files matter', () => {
    expect(registryWith('a', recordingPatch().patch).needsInternals).toBe(false);
    const registry = registryWith('b', recordingPatch({ module: 'x' }).patch, recordingPatch({ module: '@s/y', file: 'f.js' }).patch);
    expect([...registry.moduleNames].sort()).toEqual(['@s/y', 'x']);
    expect(registry.needsInternals).toBe(true);
  });
});
