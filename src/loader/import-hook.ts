import { existsSync, readFileSync } from 'node:fs';
// The module object itself (a namespace import would copy it): register and registerHooks are feature-tested.
const nodeModule = require('node:module') as typeof import('node:module');
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diag } from '../diag/logger';
import type { PatchRegistry } from './registry';
import type { WatchedModules } from './require-hook';

type IitmHook = (namespace: Record<string, unknown>, name: string, baseDir: string | undefined, format?: string) => void;

/**
 * The one import hook: import-in-the-middle's loader, told to wrap only the modules enabled
 * instrumentations name and the watched ones (every other import is left alone). On Node versions with working
 * synchronous hooks it runs in the application thread; otherwise through module.register.
 * Returns false when this Node cannot hook imports.
 */
export function installImportHook(registry: PatchRegistry, modules: readonly string[], watched?: WatchedModules): boolean {
  const register = (nodeModule as { register?: Function }).register;
  if (typeof register !== 'function') {
    diag.warn(`Node ${process.version} cannot hook ESM imports (module.register is missing); only require() is instrumented`);
    return false;
  }
  const include = [...modules, ...(watched?.names ?? [])];
  if (!registerSynchronousHooks(include)) {
    const hookUrl = pathToFileURL(require.resolve('import-in-the-middle/hook.mjs')).href;
    register(hookUrl, pathToFileURL(__filename).href, { data: { include } });
  }
  const { Hook } = require('import-in-the-middle') as { Hook: new (modules: string[], fn: IitmHook) => unknown };
  new Hook(include, (namespace, name, baseDir, format) => {
    watched?.onLoad(name, baseDir);
    registry.onImport(namespace, name, baseDir, format);
  });
  return true;
}

/** In-thread hooks (module.registerHooks) where import-in-the-middle says this Node supports them. */
function registerSynchronousHooks(include: string[]): boolean {
  if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks !== 'function') return false;
  try {
    const sync = require('import-in-the-middle/register-hooks.mjs') as {
      supportsSyncHooks(): boolean;
      register(options: { include: string[] }): void;
    };
    if (!sync.supportsSyncHooks()) return false;
    sync.register({ include });
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the application's entry point is an ES module, so that its imports need the hook.
 * Registering the off-thread loader costs tens of milliseconds of startup on Node 20, so a
 * CommonJS application (whose instrumented libraries arrive through require) does without.
 */
export function entryIsEsm(argv: readonly string[] = process.argv, execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((flag) => flag === '--experimental-default-type=module' || flag === '--input-type=module')) return true;
  const entry = argv[1];
  if (entry === undefined || entry === '') return false;
  let file = resolve(entry);
  const extension = extname(file);
  if (extension === '.mjs' || extension === '.mts') return true;
  if (extension === '.cjs' || extension === '.cts') return false;
  if (extension === '' && !existsSync(file) && existsSync(`${file}.js`)) file = `${file}.js`;
  const type = packageType(dirname(file));
  if (type !== undefined) return type === 'module';
  // No "type": Node 22+ runs a file with import/export syntax as ESM anyway.
  return hasModuleSyntax(file);
}

function packageType(directory: string): string | undefined {
  for (let dir = directory, depth = 0; depth < 32; depth++) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: unknown };
      return typeof parsed.type === 'string' ? parsed.type : undefined;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

const MODULE_SYNTAX = /^\s*(?:import\s*[\w{*'"]|export\s+(?:default|const|let|var|function|class|async|\{|\*))/m;

function hasModuleSyntax(file: string): boolean {
  try {
    return MODULE_SYNTAX.test(readFileSync(file, 'utf8'));
  } catch {
    return true;
  }
}
