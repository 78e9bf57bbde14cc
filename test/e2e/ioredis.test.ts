import { beforeAll } from 'vitest';
import { describeClient, type ClientVersion, type Traits } from '../helpers/redis-harness';
import { requireRedis } from '../helpers/servers';
import { describeRedisSemconv } from './redis-semconv';

/**
 * ioredis against the Redis server of this machine, under the agent as a child process: every
 * version installed side by side, those that publish tracing channels (5.11+) and the one the
 * agent patches, CommonJS and ES modules.
 */
beforeAll(requireRedis);

const TRAITS: Traits = {
  peer: true,
  multiAbortErrorType: 'EXECABORT',
  pubsubSpans: ['connect', 'SUBSCRIBE', 'PUBLISH', 'PUBLISH', 'PUBLISH', 'UNSUBSCRIBE', 'QUIT'],
  contextSpans: ['GET', 'GET', 'LPUSH', 'GET', 'DEL'],
};

const VERSIONS: readonly ClientVersion[] = [
  { label: 'ioredis 5.11 (tracing channels), ES module', name: 'ioredis', installed: 'ioredis', script: 'ioredis-app.mjs', preload: 'import' },
  { label: 'ioredis 6.0 (tracing channels), CommonJS', name: 'ioredis', installed: 'ioredis-v6', script: 'ioredis-app.cjs', preload: 'require' },
  { label: 'ioredis 5.10 (patched), CommonJS', name: 'ioredis', installed: 'ioredis-v5-10', script: 'ioredis-app.cjs', preload: 'require' },
  { label: 'ioredis 5.10 (patched), ES module', name: 'ioredis', installed: 'ioredis-v5-10', script: 'ioredis-app.mjs', preload: 'import' },
];

for (const version of VERSIONS) describeClient(version, TRAITS);

// Both ways of making spans: from the channels (5.11) and from the patches (5.10).
describeRedisSemconv({ label: 'ioredis 5.11 (tracing channels)', name: 'ioredis', installed: 'ioredis', preload: 'require' });
describeRedisSemconv({ label: 'ioredis 5.10 (patched)', name: 'ioredis', installed: 'ioredis-v5-10', preload: 'require' });
