import { context as apiContext } from '@opentelemetry/api';
import { setContextManager } from '../../src/api/active';
import { AsyncLocalStorageContextManager } from '../../src/context/async-local-storage-context-manager';

/**
 * What the agent does at start: one AsyncLocalStorage context manager behind both the agent's own
 * context handle and @opentelemetry/api's global (which tests use the way applications do).
 */
export function installContextManager(): AsyncLocalStorageContextManager {
  const manager = new AsyncLocalStorageContextManager();
  setContextManager(manager);
  apiContext.setGlobalContextManager(manager);
  return manager;
}

export function removeContextManager(): void {
  setContextManager(undefined);
  apiContext.disable();
}
