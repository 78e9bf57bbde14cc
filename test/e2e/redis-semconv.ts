import { beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, runScenarioApp, scenarioSpan, type ScenarioRun } from '../helpers/db-scenarios';
import type { ReceivedSpan } from '../helpers/otlp-receiver';
import { onlyOne } from '../helpers/received-spans';
import type { Preload } from '../helpers/run-app';
import { CLIENT } from '../helpers/span-kinds';

/**
 * The Redis semantic conventions redis-semconv.cjs checks, for one installed client version (the
 * shared part of redis.test.ts and ioredis.test.ts): EVALSHA and FCALL name their script or
 * function (db.stored_procedure.name and the span name), and db.operation.batch.size is set on
 * transactions of two commands and of none, not on one of a single command.
 */
export interface SemconvClient {
  readonly label: string;
  readonly name: 'redis' | 'ioredis';
  /** The directory under node_modules it is installed in (an npm alias for older versions). */
  readonly installed: string;
  readonly preload: Preload;
}

export function describeRedisSemconv(client: SemconvClient): void {
  describe(`${client.label}: stored procedures and batch sizes`, () => {
    let run: ScenarioRun;
    let untraced: ScenarioRun;
    const runSemconv = (preload: Preload) =>
      runScenarioApp({
        dir: {
          fixtures: ['redis-semconv.cjs'],
          links: client.installed === client.name ? ['@opentelemetry/api', client.name] : ['@opentelemetry/api'],
          aliases: client.installed === client.name ? {} : { [client.name]: client.installed },
        },
        script: 'redis-semconv.cjs',
        preload,
        service: 'redis-semconv',
        env: { REDIS_SEMCONV_CLIENT: client.name },
      });
    /** The one Redis span under a scenario's span. */
    const commandOf = (scenario: string): ReceivedSpan =>
      onlyOne(
        childrenOf(run, scenarioSpan(run, scenario)).filter((span) => span.attributes['db.system.name'] === 'redis'),
        `${scenario}: one Redis span`,
      );

    beforeAll(async () => {
      [run, untraced] = await Promise.all([runSemconv(client.preload), runSemconv('none')]);
    }, 60_000);

    it('leaves what the application gets unchanged', () => {
      expect(Object.keys(run.results).sort()).toEqual(['evalsha', 'fcall', 'multi-empty', 'multi-one', 'multi-two']);
      for (const name of Object.keys(untraced.results)) expect(run.results[name]!.outcome, name).toEqual(untraced.results[name]!.outcome);
    });

    it('names EVALSHA and FCALL spans after the script digest or function they run', () => {
      const { sha } = run.results.evalsha!.outcome.value as { sha: string };
      const evalsha = commandOf('evalsha');
      expect(evalsha.kind).toBe(CLIENT);
      expect(evalsha.name).toBe(`EVALSHA ${sha}`);
      expect(evalsha.attributes).toMatchObject({
        'db.operation.name': 'EVALSHA',
        'db.stored_procedure.name': sha,
        'db.query.text': `EVALSHA ${sha} 1 ${run.table}k`,
      });
      // The fixture's function is named after its process, as its key prefix is (`tracelet:semconv:<pid>:`).
      const fn = `tracelet_get_${run.table.split(':')[2]}`;
      const fcall = commandOf('fcall');
      expect(fcall.name).toBe(`FCALL ${fn}`);
      expect(fcall.attributes).toMatchObject({ 'db.operation.name': 'FCALL', 'db.stored_procedure.name': fn });
    });

    it('sets db.operation.batch.size on transactions of two commands and of none, not of one', () => {
      const one = commandOf('multi-one');
      expect(one.name).toBe('MULTI INCR');
      expect(one.attributes['db.operation.batch.size']).toBeUndefined();
      expect(commandOf('multi-two').attributes).toMatchObject({ 'db.operation.name': 'MULTI INCR', 'db.operation.batch.size': 2 });
      const empty = commandOf('multi-empty');
      expect(empty.name).toBe('MULTI');
      expect(empty.attributes['db.operation.batch.size']).toBe(0);
      for (const span of [one, empty]) expect(span.attributes['db.stored_procedure.name']).toBeUndefined();
    });
  });
}
