import { sep } from 'node:path';
import { diag } from '../diag/logger';

/**
 * Warns about instrumented packages that were loaded before the agent started (the agent was
 * started from application code, or after another preload): they stay uninstrumented.
 */
export function warnAboutPreloadedModules(modules: readonly string[], cache: NodeJS.Dict<NodeModule> = require.cache): void {
  const loaded = Object.keys(cache);
  for (const name of modules) {
    const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
    if (loaded.some((file) => file.includes(marker))) {
      diag.warn(
        `${name} was loaded before the agent started, so it is not instrumented; start the agent first (node --import tracelet/register ...)`,
      );
    }
  }
}
