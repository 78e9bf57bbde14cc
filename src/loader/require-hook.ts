import { sep } from 'node:path';
import type { Hook as HookType } from 'require-in-the-middle';
import { diag } from '../diag/logger';
import type { PatchRegistry } from './registry';

type ModuleLoad = (request: string, parent: NodeModule | null | undefined, isMain: boolean) => unknown;

/** What require-in-the-middle gets instead of `debug`: its tracing output, switched off. */
const silentDebug = Object.assign(() => silentLogger, { enabled: () => false });
function silentLogger(): void {}

/**
 * Loads require-in-the-middle without its `debug` dependency, which alone costs several
 * milliseconds of startup (debug loads tty, and with it net, and probes for supports-color) to
 * offer tracing output meant for that library's own developers. Only the `debug` request issued
 * by require-in-the-middle's own file is answered; everyone else's `debug` is untouched.
 */
function loadRequireInTheMiddle(): typeof import('require-in-the-middle') {
  // The Module class itself (module.exports of node:module), whose _load every require goes through.
  const moduleInternals = require('node:module') as { _load: ModuleLoad };
  const requester = `${sep}require-in-the-middle${sep}index.js`;
  const original = moduleInternals._load;
  moduleInternals._load = function (request, parent, isMain) {
    if (request === 'debug' && parent?.filename?.endsWith(requester) === true) return silentDebug;
    return Reflect.apply(original, this, [request, parent, isMain]);
  };
  try {
    return require('require-in-the-middle') as typeof import('require-in-the-middle');
  } finally {
    moduleInternals._load = original;
  }
}

/** Packages the hooks watch only to learn that they loaded: their exports are never touched. */
export interface WatchedModules {
  readonly names: readonly string[];
  onLoad(name: string, baseDir: string | undefined): void;
}

/**
 * The one require() hook: limited to the modules enabled instrumentations name, plus the watched
 * ones, so no other module of the application is touched. Internal files are seen when a patch
 * targets one, or when some packages are watched: an ES module importing a CommonJS package
 * bypasses require for the package's main file, but that file requires the rest of its package.
 */
export function installRequireHook(registry: PatchRegistry, watched?: WatchedModules): HookType {
  const { Hook } = loadRequireInTheMiddle();
  const extra = watched?.names ?? [];
  const modules = [...registry.moduleNames, ...extra];
  const internals = registry.needsInternals || extra.length > 0;
  const onLoad = <T>(exports: T, name: string, baseDir: string | undefined): T => {
    watched?.onLoad(name, baseDir);
    return registry.onRequire(exports, name, baseDir);
  };
  hookImportedCommonJs(new Set(modules), internals, onLoad);
  return new Hook(modules, { internals }, onLoad);
}

const NODE_MODULES = `${sep}node_modules${sep}`;

/**
 * An ES module that imports a CommonJS package makes Node load the package's file through
 * Module._load with no parent module, not through require(), so require-in-the-middle never sees
 * it (on every Node version the agent supports). The same callback runs for those loads, and a
 * CommonJS package needs no import hook, which on Node 20 is a loader thread costing about 100 ms
 * of startup. The importing module reads the exports object the file built, whatever _load
 * returns: patches wrap in place there (a replaced export would reach require() callers only).
 */
function hookImportedCommonJs(
  modules: ReadonlySet<string>,
  internals: boolean,
  onLoad: (exports: unknown, name: string, baseDir: string) => unknown,
): void {
  const moduleInternals = require('node:module') as { _load: ModuleLoad };
  const original = moduleInternals._load;
  moduleInternals._load = function (this: unknown, request, parent, isMain) {
    const exports = Reflect.apply(original, this, arguments) as unknown;
    if (parent == null && isMain !== true && typeof request === 'string' && request.includes(NODE_MODULES)) {
      try {
        const loaded = packageModule(request, modules, internals);
        if (loaded !== undefined && onLoad(exports, loaded.name, loaded.baseDir) !== exports) {
          diag.debug(`${loaded.name}: a patch replaced the exports of a module an ES module imports; the import keeps the original`);
        }
      } catch (error) {
        diag.debug(`could not check the imported module ${request}: ${String(error)}`);
      }
    }
    return exports;
  };
}

/**
 * The name require-in-the-middle would give a file of an installed package: the package name
 * for its main file, `name/relative/path.js` for another file (only when `internals`).
 * Undefined for a package not in `modules`.
 */
export function packageModule(filename: string, modules: ReadonlySet<string>, internals: boolean): { name: string; baseDir: string } | undefined {
  const at = filename.lastIndexOf(NODE_MODULES);
  if (at === -1) return undefined;
  const rest = filename.slice(at + NODE_MODULES.length).split(sep);
  const nameParts = rest[0]?.startsWith('@') ? 2 : 1;
  if (rest.length <= nameParts) return undefined;
  const name = rest.slice(0, nameParts).join('/');
  if (!modules.has(name)) return undefined;
  const baseDir = filename.slice(0, at + NODE_MODULES.length) + rest.slice(0, nameParts).join(sep);
  if (require.resolve(name, { paths: [baseDir] }) === filename) return { name, baseDir };
  return internals ? { name: `${name}/${rest.slice(nameParts).join('/')}`, baseDir } : undefined;
}
