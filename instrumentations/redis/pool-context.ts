import { agentContext } from '../../src/instrumentation/api';
import type { ModulePatch } from '../../src/instrumentation/types';
import { wrap, type WrapperOwner } from '../../src/instrumentation/wrap';

/**
 * A pool of node-redis clients (createClientPool, @redis/client 5+) runs a command on a free
 * client; with none free, the command waits in the pool's queue and runs when another caller's
 * command hands its client back, in that caller's context: its span would be the other caller's
 * child. So a task RedisClientPool#execute has to queue runs in the context of whoever gave it.
 * This makes no span. (redis 4's isolation pool resumes its callers through promises, which keep
 * their context.)
 */
type Task = (this: unknown, ...args: unknown[]) => unknown;
type Execute = (this: PoolLike, fn: Task, ...rest: unknown[]) => unknown;

interface PoolLike {
  /** RedisClientPool's count of free clients: a task runs at once when there is one. */
  readonly idleClients?: number;
}

/** `fn`, run in the context active now, whenever the pool runs it. */
function inCallerContext(fn: Task): Task {
  const caller = agentContext.active();
  return function (this: unknown, ...args: unknown[]) {
    return agentContext.with(caller, fn, this, ...args);
  };
}

function runTasksInCallerContext(prototype: { execute: Execute }, ctx: WrapperOwner): void {
  wrap(
    ctx,
    prototype,
    'execute',
    (original: Execute) =>
      function (this: PoolLike, fn: Task) {
        // A task that gets a free client runs now, in this context already.
        if (typeof fn !== 'function' || (this.idleClients ?? 0) > 0) return original.apply(this, arguments as unknown as [Task]);
        const args = Array.prototype.slice.call(arguments) as [Task, ...unknown[]];
        args[0] = inCallerContext(fn);
        return original.apply(this, args);
      },
  );
}

export const poolContextPatch: ModulePatch = {
  module: '@redis/client',
  file: 'dist/lib/client/pool.js',
  versions: '>=5.0.0 <7',
  patch(exports: { RedisClientPool?: { prototype: { execute?: Execute } } }, ctx) {
    const prototype = exports.RedisClientPool?.prototype;
    if (typeof prototype?.execute !== 'function') throw new Error('no RedisClientPool#execute');
    runTasksInCallerContext(prototype as { execute: Execute }, ctx);
  },
};
