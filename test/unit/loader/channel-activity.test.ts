import { AsyncLocalStorage } from 'node:async_hooks';
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace, type Context } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { diag } from '../../../src/diag/logger';
import { subscribeChannels } from '../../../src/instrumentation/channels';
import type { Instrumentation } from '../../../src/instrumentation/types';
import { PatchRegistry } from '../../../src/loader/registry';
import { instrumentationContext } from '../../helpers/instrumentation-context';

const messages: string[] = [];
diag.setSink((line) => messages.push(line.trimEnd()));
const storage = new AsyncLocalStorage<Context>();
let unsubscribe: (() => void) | undefined;
afterEach(() => {
  unsubscribe?.();
  messages.length = 0;
  diag.setLevel('info');
});

let serial = 0;
/** An instrumentation on a channel and a tracing channel of its own, subscribed as the agent does. */
function subscribed(source: Instrumentation['channelSource']) {
  const name = `activity-test-${++serial}`;
  const received: unknown[] = [];
  const instrumentation: Instrumentation = {
    name,
    channelSource: source,
    channels: [{ channel: `${name}:event`, onMessage: (message) => received.push(message) }],
    tracingChannels: [{ tracingChannel: `${name}:call`, start: (message) => received.push(message) }],
  };
  unsubscribe = subscribeChannels(instrumentation, instrumentationContext(instrumentation, trace.getTracer('test')), storage);
  return { name, received, publish: (message: unknown) => channel(`${name}:event`).publish(message) };
}

const activeLines = () => messages.filter((line) => line.includes(': active'));

describe('a channel-based instrumentation says at debug when it becomes active', () => {
  it('once, on its first message, with the version the publisher gives', () => {
    diag.setLevel('debug');
    const { name, received, publish } = subscribed({ module: 'webframe', version: (message) => (message as { version: string }).version });
    expect(activeLines()).toEqual([]);
    publish({ version: '4.2.0' });
    publish({ version: '9.9.9' });
    tracingChannel(`${name}:call`).traceSync(() => undefined, { version: '9.9.9' });
    expect(received).toHaveLength(3);
    expect(activeLines()).toEqual([`[tracelet] debug: ${name}: active on webframe@4.2.0 (diagnostics channels)`]);
  });

  it('on a tracing channel too, preferring the version of the package the hooks saw load', () => {
    diag.setLevel('debug');
    const dir = join(mkdtempSync(join(tmpdir(), 'activity-')), 'node_modules', 'kvstore');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'kvstore', version: '5.1.0' }));
    const registry = new PatchRegistry([
      {
        instrumentation: { name: 'kv' },
        patch: { module: 'kvstore', versions: '*', patch: () => undefined },
        context: instrumentationContext({ name: 'kv' }, trace.getTracer('test')),
      },
    ]);
    registry.onRequire({}, 'kvstore', dir);
    const { name } = subscribed({ module: 'kvstore', version: () => '0.0.1' });
    tracingChannel(`${name}:call`).traceSync(() => undefined, {});
    expect(activeLines()).toEqual([`[tracelet] debug: ${name}: active on kvstore@5.1.0 (diagnostics channels)`]);
  });

  it('says nothing below debug, even on the first message', () => {
    const { received, publish } = subscribed({ module: 'webframe', version: () => '4.2.0' });
    diag.setLevel('debug'); // too late: the instrumentation was subscribed at info
    publish({});
    expect(received).toHaveLength(1);
    expect(activeLines()).toEqual([]);
  });
});
