import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redisInstrumentation } from '../../../../instrumentations/redis';
import { subscribeChannels } from '../../../../src/instrumentation/channels';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { requireRedis } from '../../../helpers/servers';
import { clientSpans, patchInstalledCopy, RecordingRecorder, switchableProvider, useRecorder } from '../shared/recording-metrics';

/**
 * db.client.operation.duration of node-redis commands against the local Redis: redis 5.12+
 * through its TracingChannels (the end an unsampled command needs is their asyncEnd), redis 4
 * through the patched command queue. One recording per command, sampled or not.
 */
const require = createRequire(import.meta.url);

const manager = installContextManager();
const { provider, processor, inRequest } = switchableProvider();
const ctx = instrumentationContext(redisInstrumentation, provider.getTracer('tracelet/redis'), {}, { throwErrors: true });
const unsubscribe = subscribeChannels(redisInstrumentation, ctx, manager.storage);
afterAll(() => {
  unsubscribe();
  removeContextManager();
});

const packageRoot = (name: string, from = require) => dirname(from.resolve(`${name}/package.json`));
const redis5Root = packageRoot('@redis/client');
patchInstalledCopy(redisInstrumentation, ctx, '@redis/client', redis5Root);
const redis4Require = createRequire(join(packageRoot('redis-v4'), 'package.json'));
patchInstalledCopy(redisInstrumentation, ctx, '@redis/client', packageRoot('@redis/client', redis4Require));

interface Client {
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown>;
  lPush(key: string, value: string): Promise<unknown>;
  select(db: number): Promise<unknown>;
}

const clients: Record<string, Client> = {
  'redis 5.12+ (channels)': (require('redis') as { createClient(options: unknown): Client }).createClient({ url: 'redis://127.0.0.1:6379/3' }),
  'redis 4 (command queue)': (redis4Require('redis') as { createClient(options: unknown): Client }).createClient({ url: 'redis://127.0.0.1:6379/3' }),
};

const recorder = new RecordingRecorder();
beforeAll(async () => {
  await requireRedis();
  for (const client of Object.values(clients)) await client.connect();
});
afterAll(async () => {
  useRecorder(undefined);
  for (const client of Object.values(clients)) await client.quit();
});
beforeEach(() => {
  recorder.clear();
  processor.spans.length = 0;
  useRecorder(recorder);
});

const GET = {
  system: 'redis',
  namespace: '3',
  operationName: 'GET',
  querySummary: undefined,
  serverAddress: '127.0.0.1',
  serverPort: 6379,
  responseStatusCode: undefined,
  errorType: undefined,
};

describe.each(Object.keys(clients))('%s', (name) => {
  const client = clients[name]!;

  describe.each([true, false])('sampled: %s', (sampled) => {
    it('a command: one recording with its span values, the reply unchanged', async () => {
      await client.set('metrics:key', 'value');
      recorder.clear();
      processor.spans.length = 0;
      const start = performance.now();
      const reply = await inRequest(sampled, () => client.get('metrics:key'));
      const elapsedMs = performance.now() - start;
      expect(reply).toBe('value');
      expect(recorder.db).toEqual([{ ...GET, seconds: expect.any(Number) }]);
      expect(recorder.db[0]!.seconds).toBeGreaterThan(0);
      expect(recorder.db[0]!.seconds * 1000).toBeLessThanOrEqual(elapsedMs + 1);
      const spans = clientSpans(processor.spans);
      if (!sampled) return expect(spans).toEqual([]);
      expect(spans).toHaveLength(1);
      expect(spans[0]!.attributes).toMatchObject({
        'db.system.name': 'redis',
        'db.operation.name': 'GET',
        'db.namespace': '3',
        'server.address': '127.0.0.1',
        'server.port': 6379,
      });
    });

    it('WRONGTYPE: error.type and db.response.status_code as on the span, the error unchanged', async () => {
      await client.set('metrics:string', 'value');
      recorder.clear();
      processor.spans.length = 0;
      const error = await inRequest(sampled, () => client.lPush('metrics:string', 'x')).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^WRONGTYPE /);
      expect(recorder.db).toEqual([
        { ...GET, operationName: 'LPUSH', seconds: expect.any(Number), errorType: 'WRONGTYPE', responseStatusCode: 'WRONGTYPE' },
      ]);
      if (sampled)
        expect(clientSpans(processor.spans)[0]!.attributes).toMatchObject({ 'error.type': 'WRONGTYPE', 'db.response.status_code': 'WRONGTYPE' });
    });
  });

  it('metrics off: an unsampled command records nothing, its reply unchanged', async () => {
    useRecorder(undefined);
    await client.set('metrics:key', 'value');
    expect(await inRequest(false, () => client.get('metrics:key'))).toBe('value');
    expect(recorder.db).toEqual([]);
  });
});
