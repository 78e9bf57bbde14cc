import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ioredisInstrumentation } from '../../../../instrumentations/ioredis';
import { subscribeChannels } from '../../../../src/instrumentation/channels';
import { installContextManager, removeContextManager } from '../../../helpers/context';
import { instrumentationContext } from '../../../helpers/instrumentation-context';
import { requireRedis } from '../../../helpers/servers';
import { clientSpans, patchInstalledCopy, RecordingRecorder, switchableProvider, useRecorder } from '../shared/recording-metrics';

/**
 * db.client.operation.duration of ioredis commands against the local Redis: ioredis 5.11+
 * through its TracingChannels, ioredis 5.10 through the wrapped resolve and reject of each command.
 * One recording per command, sampled or not.
 */
const require = createRequire(import.meta.url);

const manager = installContextManager();
const { provider, processor, inRequest } = switchableProvider();
const ctx = instrumentationContext(ioredisInstrumentation, provider.getTracer('tracelet/ioredis'), {}, { throwErrors: true });
const unsubscribe = subscribeChannels(ioredisInstrumentation, ctx, manager.storage);
afterAll(() => {
  unsubscribe();
  removeContextManager();
});

interface Redis {
  set(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown>;
  lpush(key: string, value: string): Promise<unknown>;
  quit(): Promise<unknown>;
}
type RedisClass = new (options: unknown) => Redis;

function load(name: string): RedisClass {
  patchInstalledCopy(ioredisInstrumentation, ctx, 'ioredis', dirname(require.resolve(`${name}/package.json`)));
  return (require(name) as { default: RedisClass }).default;
}

const options = { host: '127.0.0.1', port: 6379, db: 4, lazyConnect: false };
const clients: Record<string, Redis> = {
  'ioredis 5.11+ (channels)': new (load('ioredis'))(options),
  'ioredis 5.10 (wrapped command)': new (load('ioredis-v5-10'))(options),
};

const recorder = new RecordingRecorder();
beforeAll(async () => {
  await requireRedis();
  for (const client of Object.values(clients)) await client.set('metrics:key', 'value');
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
  namespace: '4',
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
        'db.namespace': '4',
        'server.address': '127.0.0.1',
        'server.port': 6379,
      });
    });

    it('WRONGTYPE: error.type and db.response.status_code as on the span, the error unchanged', async () => {
      const error = await inRequest(sampled, () => client.lpush('metrics:key', 'x')).catch((caught: unknown) => caught);
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
    expect(await inRequest(false, () => client.get('metrics:key'))).toBe('value');
    expect(recorder.db).toEqual([]);
  });
});
