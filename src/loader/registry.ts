import { syncBuiltinESMExports } from 'node:module';
import { diag } from '../diag/logger';
import type { Instrumentation, InstrumentationContext, ModulePatch } from '../instrumentation/types';
import { satisfies } from '../instrumentation/version-range';
import { packageVersion, recordLoadedVersion } from './package-version';

/** One ModulePatch of one enabled instrumentation, with the context it runs with. */
export interface RegisteredPatch {
  readonly instrumentation: Instrumentation;
  readonly patch: ModulePatch;
  readonly context: InstrumentationContext;
}

/** A module's exports that patches can work on: an object or a function. */
type Exports = object;

/**
 * Decides, for every hooked module that loads, which patches apply: reads the package version,
 * checks each patch's range, applies each patch once per exports object, and contains failures.
 * Both the require hook and the import hook feed it, so a module reached both ways is patched once.
 */
export class PatchRegistry {
  private readonly byModule = new Map<string, RegisteredPatch[]>();
  /** Module names, longest first, so '@redis/client' wins over a shorter prefix. */
  private readonly names: string[];
  private readonly applied = new WeakMap<object, Set<ModulePatch>>();
  private readonly rangeChecked = new Set<string>();
  /** Hooked modules seen loading, by name (for diagnostics). */
  readonly seen = new Set<string>();

  constructor(patches: readonly RegisteredPatch[]) {
    for (const entry of patches) {
      const list = this.byModule.get(entry.patch.module);
      if (list === undefined) this.byModule.set(entry.patch.module, [entry]);
      else list.push(entry);
    }
    this.names = [...this.byModule.keys()].sort((a, b) => b.length - a.length);
  }

  /** The module names the hooks must watch. */
  get moduleNames(): readonly string[] {
    return this.names;
  }

  /** True when some patch targets a file inside a package (the require hook must see internals). */
  get needsInternals(): boolean {
    for (const list of this.byModule.values()) if (list.some((entry) => entry.patch.file !== undefined)) return true;
    return false;
  }

  /** require-in-the-middle callback: `name` is 'pg' or, for an internal file, 'pg/lib/client.js'. */
  onRequire<T>(exports: T, name: string, baseDir: string | undefined): T {
    try {
      return this.load(exports, name, baseDir, false);
    } catch (error) {
      diag.once('error', `loader:${name}`, `could not instrument ${name}: ${String(error)}`);
      return exports;
    }
  }

  /**
   * import-in-the-middle callback. Patches see CommonJS-shaped exports: for a CommonJS module or
   * a builtin that is the namespace's default export; then the named exports are brought in line.
   */
  onImport(namespace: Record<string, unknown>, name: string, baseDir: string | undefined, format: string | undefined): void {
    try {
      const cjsShaped = format !== 'module' && 'default' in namespace && isObjectLike(namespace.default);
      const target = cjsShaped ? namespace.default : namespace;
      const result = this.load(target, name, baseDir, true);
      if (cjsShaped) {
        if (result !== target) namespace.default = result;
        syncNamedExports(namespace, result);
      }
    } catch (error) {
      diag.once('error', `loader:${name}`, `could not instrument ${name}: ${String(error)}`);
    }
  }

  private load<T>(exports: T, name: string, baseDir: string | undefined, viaImport: boolean): T {
    const normalised = name.replace(/\\/g, '/');
    const module = this.names.find((candidate) => normalised === candidate || normalised.startsWith(`${candidate}/`));
    if (module === undefined || !isObjectLike(exports)) return exports;
    const file = normalised === module ? undefined : normalised.slice(module.length + 1);
    const builtin = baseDir === undefined;
    const version = builtin ? process.versions.node : packageVersion(baseDir);
    this.seen.add(module);
    if (!builtin && version !== undefined) recordLoadedVersion(module, version);

    const entries = this.byModule.get(module)!;
    if (!builtin) this.reportUnsupported(module, baseDir!, version, entries);
    if (version === undefined) return exports;

    let result: Exports = exports;
    let patched = false;
    for (const entry of entries) {
      const { patch } = entry;
      if (patch.file !== file || !satisfies(version, patch.versions)) continue;
      if (this.applied.get(result)?.has(patch)) continue;
      result = this.apply(entry, result, version, file, viaImport);
      patched = true;
    }
    // Builtins are shared with their ESM facades (`import { request } from 'node:http'`).
    if (builtin && patched) syncBuiltinESMExports();
    // A patch may replace the exports: the module is then what it returned.
    return result as T;
  }

  private apply(entry: RegisteredPatch, exports: Exports, version: string, file: string | undefined, viaImport: boolean): Exports {
    const { patch, instrumentation } = entry;
    let done = this.applied.get(exports);
    const where = `${patch.module}@${version}${file === undefined ? '' : ` (${file})`}`;
    try {
      const replaced = patch.patch(exports, entry.context, { module: patch.module, version, viaImport });
      const result = (replaced === undefined ? exports : replaced) as Exports;
      if (done === undefined) {
        done = new Set();
        this.applied.set(exports, done);
      }
      done.add(patch);
      if (result !== exports) this.applied.set(result, done);
      diag.debug(`${instrumentation.name}: patched ${where}`);
      return result;
    } catch (error) {
      diag.once(
        'error',
        `patch:${instrumentation.name}:${where}`,
        `${instrumentation.name}: patching ${where} failed, so it runs uninstrumented: ${describe(error)}`,
      );
      try {
        patch.unpatch?.(exports);
      } catch {
        // best effort: the patch already failed
      }
      return exports;
    }
  }

  /** Once per package directory: say so when no patch of an instrumentation covers this version. */
  private reportUnsupported(module: string, baseDir: string, version: string | undefined, entries: readonly RegisteredPatch[]): void {
    const key = `${module}\0${baseDir}`;
    if (this.rangeChecked.has(key)) return;
    this.rangeChecked.add(key);
    const byInstrumentation = new Map<string, string[]>();
    for (const { instrumentation, patch } of entries) {
      const ranges = byInstrumentation.get(instrumentation.name) ?? [];
      ranges.push(patch.versions);
      byInstrumentation.set(instrumentation.name, ranges);
    }
    for (const [name, ranges] of byInstrumentation) {
      if (version !== undefined && ranges.some((range) => satisfies(version, range))) continue;
      diag.info(
        `${module}@${version ?? '(unknown version)'} is outside what the ${name} instrumentation supports (${[...new Set(ranges)].join(' || ')}); it runs uninstrumented`,
      );
    }
  }
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** After patching a CommonJS module's exports, makes `import { x }` see the same (wrapped) x. */
function syncNamedExports(namespace: Record<string, unknown>, exports: unknown): void {
  for (const key of Object.keys(namespace)) {
    if (key === 'default') continue;
    const value = (exports as Record<string, unknown>)[key];
    if (value !== undefined && namespace[key] !== value) namespace[key] = value;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack?.split('\n').slice(0, 3).join(' | ') ?? error.message;
  return String(error);
}
