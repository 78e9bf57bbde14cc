import { beforeAll } from 'vitest';
import { describeClient, type ClientVersion, type Traits } from '../helpers/redis-harness';
import { requireRedis } from '../helpers/servers';
import { describeRedisSemconv } from './redis-semconv';

/**
 * node-redis against the Redis server of this machine, under the agent as a child process: every
 * version installed side by side, those that publish tracing channels (@redis/client 5.12+) and
 * those the agent patches, CommonJS and ES modules.
 */
beforeAll(requireRedis);

const CHANNELS: Omit<Traits, 'multiAbortErrorType'> = {
  peer: true,
  pubsubSpans: ['connect', 'PUBLISH', 'PUBLISH', 'PUBLISH'],
  contextSpans: ['GET'],
};
const PATCHED = { ...CHANNELS, peer: false };

const VERSIONS: ReadonlyArray<ClientVersion & { traits: Traits }> = [
  {
    label: 'redis 5.12 (@redis/client 5.12: tracing channels), ES module',
    name: 'redis',
    installed: 'redis',
    script: 'redis-app.mjs',
    preload: 'import',
    traits: { ...CHANNELS, multiAbortErrorType: 'ERR' },
  },
  {
    label: 'redis 6.3 (@redis/client 6.3: tracing channels), CommonJS',
    name: 'redis',
    installed: 'redis-v6',
    script: 'redis-app.cjs',
    preload: 'require',
    traits: { ...CHANNELS, multiAbortErrorType: 'ERR' },
  },
  {
    label: 'redis 5.11 (@redis/client 5.11: patched), ES module',
    name: 'redis',
    installed: 'redis-v5-11',
    script: 'redis-app.mjs',
    preload: 'import',
    traits: { ...PATCHED, multiAbortErrorType: 'ERR' },
  },
  {
    label: 'redis 4.7 (@redis/client 1.6: patched), CommonJS',
    name: 'redis',
    installed: 'redis-v4',
    script: 'redis-app.cjs',
    preload: 'require',
    traits: { ...PATCHED, multiAbortErrorType: 'EXECABORT' },
  },
];

for (const version of VERSIONS) describeClient(version, version.traits);

// Both ways of making spans: from the channels (5.12) and from the patches (5.11, 4.7).
describeRedisSemconv({ label: 'redis 5.12 (tracing channels)', name: 'redis', installed: 'redis', preload: 'require' });
describeRedisSemconv({ label: 'redis 5.11 (patched)', name: 'redis', installed: 'redis-v5-11', preload: 'require' });
describeRedisSemconv({ label: 'redis 4.7 (patched)', name: 'redis', installed: 'redis-v4', preload: 'require' });
