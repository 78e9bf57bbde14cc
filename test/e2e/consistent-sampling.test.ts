import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../helpers/http-client';
import { receiverForEachTest, type ReceivedSpan } from '../helpers/otlp-receiver';
import { FIXTURES, startApp, type App } from '../helpers/run-app';

// Two services under the agent, front calling back, each with its own ratio sampler, both
// exporting to one receiver: what a backend sees of a sampled distributed system.
const SCRIPT = join(FIXTURES, 'sampling-hop.cjs');
const REQUESTS = 240;
const SERVER = 2;
const CLIENT = 3;

const receiver = receiverForEachTest();
let apps: App[] = [];
afterEach(async () => {
  await Promise.all(apps.map((app) => app.stop()));
  apps = [];
});

async function service(name: string, sampler: string, ratio: string, downstream?: string): Promise<string> {
  const app = startApp({
    script: SCRIPT,
    env: {
      OTEL_SERVICE_NAME: name,
      OTEL_TRACES_SAMPLER: sampler,
      OTEL_TRACES_SAMPLER_ARG: ratio,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      DOWNSTREAM: downstream,
    },
  });
  apps.push(app);
  const [, port] = await app.waitFor(/listening (\d+)/);
  return `http://127.0.0.1:${port}/`;
}

/** Sends the requests, stops both services (which flushes their spans), and groups what arrived. */
async function traffic(front: string): Promise<{ front: Map<string, ReceivedSpan[]>; back: Map<string, ReceivedSpan[]> }> {
  for (let i = 0; i < REQUESTS; i++) expect((await send(front)).status).toBe(200);
  const stopped = await Promise.all(apps.map((app) => app.stop()));
  apps = [];
  for (const result of stopped) expect(result.code).toBe(0);
  const byService = (name: string) => {
    const traces = new Map<string, ReceivedSpan[]>();
    for (const span of receiver().spans.filter((s) => s.resource['service.name'] === name)) {
      traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
    }
    return traces;
  };
  return { front: byService('front'), back: byService('back') };
}

/** The trace id's 56 random bits, as the 14 hex digits they are. */
const randomness = (traceId: string) => traceId.slice(18);

describe('consistent probability sampling across services', () => {
  it('traceidratio at 0.5 then 0.25: the 0.25 service keeps exactly the traces at or above its threshold, all of them whole', async () => {
    const back = await service('back', 'traceidratio', '0.25');
    const front = await service('front', 'traceidratio', '0.5', back);
    const seen = await traffic(front);

    // Each service kept the traces whose randomness reaches its threshold (th:8 = 0x80…, th:c = 0xc0…), and only those.
    for (const traceId of seen.front.keys()) expect(randomness(traceId) >= '80000000000000').toBe(true);
    for (const traceId of seen.back.keys()) expect(randomness(traceId) >= 'c0000000000000').toBe(true);
    expect(seen.front.size).toBeGreaterThan(REQUESTS * 0.3);
    expect(seen.front.size).toBeLessThan(REQUESTS * 0.7);
    expect(seen.back.size).toBeGreaterThan(REQUESTS * 0.1);
    // Every trace the 0.25 service kept, the 0.5 service kept too: whole traces, server to server.
    for (const [traceId, backSpans] of seen.back) {
      const frontSpans = seen.front.get(traceId)!;
      expect(frontSpans).toBeDefined();
      const client = frontSpans.find((span) => span.kind === CLIENT)!;
      expect(backSpans.find((span) => span.kind === SERVER)!.parentSpanId).toBe(client.spanId);
    }
    // And the 0.5 service's traces at or above 0xc… are exactly the 0.25 service's.
    const expectedBack = [...seen.front.keys()].filter((traceId) => randomness(traceId) >= 'c0000000000000').sort();
    expect([...seen.back.keys()].sort()).toEqual(expectedBack);

    // Each span says what it stands for: th:8 counts 2 spans, th:c counts 4.
    for (const spans of seen.front.values()) for (const span of spans) expect(span.traceState).toBe('ot=th:8');
    for (const spans of seen.back.values()) for (const span of spans) expect(span.traceState).toBe('ot=th:c');
    // The random flag (0x02) travelled with the sampled one, set by the front, kept by the back.
    for (const spans of [...seen.front.values(), ...seen.back.values()]) for (const span of spans) expect(span.flags & 0xff).toBe(0x03);
  });

  it('parentbased_traceidratio downstream follows the front, keeping its threshold as it came', async () => {
    const back = await service('back', 'parentbased_traceidratio', '0.01');
    const front = await service('front', 'parentbased_traceidratio', '0.5', back);
    const seen = await traffic(front);
    expect([...seen.back.keys()].sort()).toEqual([...seen.front.keys()].sort());
    for (const spans of seen.back.values()) for (const span of spans) expect(span.traceState).toBe('ot=th:8');
  });
});
