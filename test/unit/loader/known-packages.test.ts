import { describe, expect, it } from 'vitest';
import { INSTRUMENTATIONS } from '../../../instrumentations';
import { KNOWN_UNINSTRUMENTED, KNOWN_UNINSTRUMENTED_NAMES } from '../../../src/loader/known-packages';

/** Every package some built-in instrumentation patches or listens to. */
function instrumentedPackages(): Set<string> {
  const names = new Set<string>();
  for (const instrumentation of INSTRUMENTATIONS) {
    for (const patch of instrumentation.patches ?? []) names.add(patch.module);
    if (instrumentation.channelSource !== undefined) names.add(instrumentation.channelSource.module);
  }
  return names;
}

describe('the list of well-known packages the agent does not instrument', () => {
  it('names no package an instrumentation covers', () => {
    const instrumented = instrumentedPackages();
    expect(KNOWN_UNINSTRUMENTED_NAMES.filter((name) => instrumented.has(name))).toEqual([]);
  });

  it('leaves out the libraries that run on an instrumented driver or are being instrumented', () => {
    for (const name of ['mysql2', 'pino', 'winston', 'knex', 'sequelize', 'typeorm', 'undici', 'pg', 'redis', 'ioredis']) {
      expect(KNOWN_UNINSTRUMENTED_NAMES).not.toContain(name);
    }
  });

  it('names the usual suspects once each, grouped under one-word kinds', () => {
    expect(KNOWN_UNINSTRUMENTED.database).toEqual(expect.arrayContaining(['mongodb', 'mongoose', 'mysql', 'better-sqlite3', '@prisma/client']));
    expect(KNOWN_UNINSTRUMENTED.messaging).toEqual(expect.arrayContaining(['kafkajs', 'amqplib', 'bullmq']));
    expect(KNOWN_UNINSTRUMENTED.rpc).toEqual(expect.arrayContaining(['@grpc/grpc-js', 'graphql']));
    expect(new Set(KNOWN_UNINSTRUMENTED_NAMES).size).toBe(KNOWN_UNINSTRUMENTED_NAMES.length);
    for (const kind of Object.keys(KNOWN_UNINSTRUMENTED)) expect(kind).toMatch(/^[a-z]+$/);
  });

  it('holds only valid package names, which is what the module hooks compare against', () => {
    for (const name of KNOWN_UNINSTRUMENTED_NAMES) expect(name).toMatch(/^(@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*$/);
  });
});
