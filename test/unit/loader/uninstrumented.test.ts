import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { majorMinor, packageNameOf, UninstrumentedReporter } from '../../../src/loader/uninstrumented';

const messages: string[] = [];
diag.setSink((line) => messages.push(line.trimEnd()));
diag.setLevel('info');
afterEach(() => {
  messages.length = 0;
});

function packageDir(name: string, version: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'uninstrumented-')), 'node_modules', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version }));
  return dir;
}

/** A reporter whose batches are flushed when the test says so, standing in for the next event-loop turn. */
function reporterWith(names: readonly string[]) {
  const flushes: Array<() => void> = [];
  const reporter = new UninstrumentedReporter(names, (flush) => flushes.push(flush));
  const nextTurn = () => {
    for (const flush of flushes.splice(0)) flush();
  };
  return { reporter, nextTurn, scheduled: () => flushes.length };
}

describe('UninstrumentedReporter', () => {
  const mongodb = packageDir('mongodb', '6.8.1');
  const kafkajs = packageDir('kafkajs', '2.2.4');

  it('reports everything loaded in one turn on one info line, with major.minor versions, in load order', () => {
    const { reporter, nextTurn, scheduled } = reporterWith(['mongodb', 'kafkajs']);
    reporter.onLoad('mongodb', mongodb);
    reporter.onLoad('kafkajs', kafkajs);
    expect(messages).toEqual([]);
    expect(scheduled()).toBe(1);
    nextTurn();
    expect(messages).toEqual(['[tracelet] info: loaded without instrumentation: mongodb 6.8, kafkajs 2.2']);
  });

  it('names each package once per process: later loads of it, or of its files, add nothing', () => {
    const { reporter, nextTurn, scheduled } = reporterWith(['mongodb', 'kafkajs']);
    reporter.onLoad('mongodb/lib/index.js', mongodb);
    reporter.onLoad('mongodb', mongodb);
    nextTurn();
    reporter.onLoad('mongodb/lib/sessions.js', mongodb);
    expect(scheduled()).toBe(0);
    reporter.onLoad('kafkajs', kafkajs);
    nextTurn();
    expect(messages).toEqual([
      '[tracelet] info: loaded without instrumentation: mongodb 6.8',
      '[tracelet] info: loaded without instrumentation: kafkajs 2.2',
    ]);
  });

  it('ignores packages it does not watch', () => {
    const { reporter, nextTurn, scheduled } = reporterWith(['mongodb']);
    reporter.onLoad('pg', packageDir('pg', '8.0.0'));
    reporter.onLoad('mongodb-memory-server/index.js', packageDir('mongodb-memory-server', '9.0.0'));
    expect(scheduled()).toBe(0);
    nextTurn();
    expect(messages).toEqual([]);
  });

  it('knows scoped packages by their internal files too, and does without a version it cannot read', () => {
    const { reporter, nextTurn } = reporterWith(['@prisma/client', '@grpc/grpc-js']);
    reporter.onLoad('@prisma/client\\runtime\\library.js', packageDir('@prisma/client', '5.22.0'));
    reporter.onLoad('@grpc/grpc-js', join(tmpdir(), 'no-such-package'));
    nextTurn();
    expect(messages).toEqual(['[tracelet] info: loaded without instrumentation: @prisma/client 5.22, @grpc/grpc-js']);
  });
});

describe('packageNameOf and majorMinor', () => {
  it('take the package out of a hooked name and the major.minor out of a version', () => {
    expect(packageNameOf('kafkajs')).toBe('kafkajs');
    expect(packageNameOf('kafkajs/src/index.js')).toBe('kafkajs');
    expect(packageNameOf('@elastic/elasticsearch/lib/api.js')).toBe('@elastic/elasticsearch');
    expect(majorMinor('6.8.1')).toBe('6.8');
    expect(majorMinor('10.0.0-beta.3')).toBe('10.0');
    expect(majorMinor('latest')).toBeUndefined();
    expect(majorMinor(undefined)).toBeUndefined();
  });
});
