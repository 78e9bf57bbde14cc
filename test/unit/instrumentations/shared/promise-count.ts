import { createHook } from 'node:async_hooks';

/** How many promises `fn` makes while it runs synchronously (its result is returned too). */
export function promisesMadeBy<T>(fn: () => T): { result: T; promises: number } {
  let promises = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'PROMISE') promises++;
    },
  }).enable();
  try {
    const result = fn();
    return { result, promises };
  } finally {
    hook.disable();
  }
}
