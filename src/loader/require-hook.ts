import { sep } from 'node:path';
import type { Hook as HookType } from 'require-in-the-middle';
import type { PatchRegistry } from './registry';

type ModuleLoad = (request: string, parent: NodeModule | undefined, isMain: boolean) => unknown;

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
  return new Hook(modules, { internals }, (exports, name, baseDir) => {
    watched?.onLoad(name, baseDir);
    return registry.onRequire(exports, name, baseDir);
  });
}
