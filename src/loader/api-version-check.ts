import { diag } from '../diag/logger';
import type { ModulePatch } from '../instrumentation/types';

const VERSION = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/;

/**
 * Whether an application's copy of @opentelemetry/api (appVersion) accepts the global tracer
 * provider that an API of globalVersion registered: the API's own rule is same major, no
 * prerelease, and the application's minor not newer than the global's.
 */
export function apiVersionsCompatible(appVersion: string, globalVersion: string): boolean {
  if (appVersion === globalVersion) return true;
  const app = VERSION.exec(appVersion);
  const global = VERSION.exec(globalVersion);
  if (app === null || global === null || app[4] !== undefined || global[4] !== undefined) return false;
  if (app[1] !== global[1]) return false;
  if (app[1] === '0') return app[2] === global[2] && Number(app[3]) <= Number(global[3]);
  return Number(app[2]) <= Number(global[2]);
}

/**
 * Not an instrumentation: watches the application load its own @opentelemetry/api and warns when
 * that copy cannot see the agent's tracer provider, the usual cause of "my manual spans vanish".
 */
export function apiVersionWatcher(globalVersion: string): ModulePatch {
  return {
    module: '@opentelemetry/api',
    versions: '*',
    // ES module applications import the API's ES build, which no require hook sees: for them
    // checkInstalledApiVersion() reads the installed copy instead.
    importHook: false,
    patch(_exports, _ctx, target) {
      warnIfIncompatible(target.version, globalVersion, 'loads');
      return undefined;
    },
  };
}

/**
 * For an ES module application: the version of the @opentelemetry/api that its entry point
 * would import, found the way Node resolves packages (node_modules folders up from the entry),
 * checked once after startup. Reads one small file; says nothing when none is installed.
 */
export async function checkInstalledApiVersion(entry: string, globalVersion: string): Promise<string | undefined> {
  const { readFile } = require('node:fs/promises') as typeof import('node:fs/promises');
  const { dirname, join, resolve } = require('node:path') as typeof import('node:path');
  for (let dir = dirname(resolve(entry)), depth = 0; depth < 64; depth++) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'node_modules', '@opentelemetry', 'api', 'package.json'), 'utf8')) as {
        version?: unknown;
      };
      if (typeof manifest.version !== 'string') return undefined;
      warnIfIncompatible(manifest.version, globalVersion, 'has');
      return manifest.version;
    } catch {
      // none installed here (or unreadable): look further up, as Node does
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

function warnIfIncompatible(appVersion: string, globalVersion: string, verb: 'loads' | 'has'): void {
  if (apiVersionsCompatible(appVersion, globalVersion)) return;
  diag.warn(
    `the application ${verb} @opentelemetry/api ${appVersion}, which cannot use the tracer provider this agent registered with @opentelemetry/api ${globalVersion}: its manual spans will be dropped. Use @opentelemetry/api ${globalVersion.split('.')[0]}.x no newer than ${globalVersion}`,
  );
}
