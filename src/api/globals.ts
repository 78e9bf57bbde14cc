/**
 * Registers the agent in @opentelemetry/api's process-wide global, the contract every copy of the
 * API reads: an object under Symbol.for('opentelemetry.js.api.1') holding `version` and the
 * registered `trace`, `context`, `propagation` and `diag` implementations. Writing it directly
 * means the agent never loads the API package itself (dozens of files, tens of milliseconds of
 * startup); an application that uses the API finds the agent there.
 */

/** The @opentelemetry/api version whose interfaces the agent implements (a unit test pins it to the installed one). */
export const API_VERSION = '1.10.0';

const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');

export type GlobalSlot = 'trace' | 'context' | 'propagation' | 'diag';

interface ApiGlobal {
  readonly version: string;
  [slot: string]: unknown;
}

function apiGlobal(): ApiGlobal | undefined {
  return (globalThis as Record<symbol, ApiGlobal | undefined>)[GLOBAL_KEY];
}

/** Version of the API that created the global, if any did. */
export function registeredApiVersion(): string | undefined {
  return apiGlobal()?.version;
}

/** Registers one implementation; false when something else already holds the slot. */
export function registerGlobal(slot: GlobalSlot, instance: unknown, allowOverride = false): boolean {
  let api = apiGlobal();
  if (api === undefined) {
    api = Object.defineProperty({}, 'version', { value: API_VERSION, enumerable: true }) as ApiGlobal;
    (globalThis as Record<symbol, ApiGlobal>)[GLOBAL_KEY] = api;
  }
  if (api[slot] !== undefined && !allowOverride) return false;
  api[slot] = instance;
  return true;
}

/** Removes what the agent registered (shutdown and tests). */
export function unregisterGlobal(slot: GlobalSlot, instance: unknown): void {
  const api = apiGlobal();
  if (api !== undefined && api[slot] === instance) delete api[slot];
}
