import { redisInstrumentation } from '../../../../instrumentations/redis';
import { describe, expect, it } from 'vitest';
import { poolContextPatch } from '../../../../instrumentations/redis/pool-context';
import { agentContext, createContextKey, ROOT_CONTEXT } from '../../../../src/instrumentation/api';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { installContextManager } from '../../../helpers/context';
import { testProvider } from '../../../helpers/in-memory';

installContextManager();
const CALLER = createContextKey('caller');

/** RedisClientPool as far as execute goes: a task runs at once on a free client, else when one is handed back. */
class FakePool {
  idleClients = 1;
  readonly waiting: Array<() => void> = [];
  execute(fn: (client: string) => unknown): Promise<unknown> {
    return new Promise((resolve) => {
      if (this.idleClients > 0) {
        this.idleClients--;
        resolve(fn('client'));
      } else {
        this.waiting.push(() => resolve(fn('client')));
      }
    });
  }
  /** Another caller's command is done: its client runs the next waiting task, in that caller's context. */
  handBack(): void {
    this.waiting.shift()?.();
  }
}

const ctx = instrumentationContext(redisInstrumentation, testProvider().provider.getTracer('tracelet/redis'), {}, { throwErrors: true });
poolContextPatch.patch({ RedisClientPool: FakePool }, ctx, { module: '@redis/client', version: '5.12.1', viaImport: false });

describe('node-redis client pool', () => {
  it("runs a task that waited for a free client in its caller's context, not in the one handing the client back", async () => {
    const pool = new FakePool();
    const seen: unknown[] = [];
    const task = () => seen.push(agentContext.active().getValue(CALLER));
    const first = agentContext.with(ROOT_CONTEXT.setValue(CALLER, 'first'), () => pool.execute(task));
    const second = agentContext.with(ROOT_CONTEXT.setValue(CALLER, 'second'), () => pool.execute(task));
    agentContext.with(ROOT_CONTEXT.setValue(CALLER, 'first, handing back'), () => pool.handBack());
    await Promise.all([first, second]);
    expect(seen).toEqual(['first', 'second']);
  });
});
