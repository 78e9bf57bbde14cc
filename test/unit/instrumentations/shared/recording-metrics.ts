import type { Context } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import semver from 'semver';
import type { Instrumentation, InstrumentationContext } from '../../../../src/instrumentation/types';
import { expect } from 'vitest';
import { agentContext, setSpan } from '../../../../src/instrumentation/api';
import { requestMetrics, type RequestMetricsRecorder } from '../../../../src/instrumentation/request-metrics';
import { createSampler, type Sampler } from '../../../../src/trace/sampler';
import type { ReadableSpan } from '../../../../src/trace/types';
import { testProvider } from '../../../helpers/in-memory';

/**
 * What the client metrics tests share: a recorder that keeps every call's arguments (the
 * collaborator the instrumentations call while metrics are on), and a provider whose sampler a
 * test switches between always_on and always_off, as OTEL_TRACES_SAMPLER would.
 */

export interface DbClientCall {
  readonly seconds: number;
  readonly system: string;
  readonly namespace: string | undefined;
  readonly operationName: string | undefined;
  readonly querySummary: string | undefined;
  readonly responseStatusCode: string | undefined;
  readonly errorType: string | undefined;
  readonly serverAddress: string | undefined;
  readonly serverPort: number | undefined;
}

export interface HttpClientCall {
  readonly seconds: number;
  readonly method: string;
  readonly statusCode: number;
  readonly errorType: string | undefined;
  readonly serverAddress: string | undefined;
  readonly serverPort: number | undefined;
  readonly protocolVersion: string | undefined;
}

export class RecordingRecorder implements RequestMetricsRecorder {
  readonly db: DbClientCall[] = [];
  readonly httpClients: HttpClientCall[] = [];
  readonly httpServers: unknown[][] = [];

  httpServer(...args: unknown[]): void {
    this.httpServers.push(args);
  }

  httpClient(
    seconds: number,
    method: string,
    statusCode: number,
    errorType: string | undefined,
    serverAddress: string | undefined,
    serverPort: number | undefined,
    protocolVersion: string | undefined,
  ): void {
    this.httpClients.push({ seconds, method, statusCode, errorType, serverAddress, serverPort, protocolVersion });
  }

  dbClient(
    seconds: number,
    system: string,
    namespace: string | undefined,
    operationName: string | undefined,
    querySummary: string | undefined,
    responseStatusCode: string | undefined,
    errorType: string | undefined,
    serverAddress: string | undefined,
    serverPort: number | undefined,
  ): void {
    this.db.push({ seconds, system, namespace, operationName, querySummary, responseStatusCode, errorType, serverAddress, serverPort });
  }

  clear(): void {
    this.db.length = 0;
    this.httpClients.length = 0;
    this.httpServers.length = 0;
  }
}

/** A provider keeping every span in memory, its sampler always_on or always_off as `sampling` says. */
export function switchableProvider() {
  let current: Sampler = createSampler('always_on', 1);
  const sampler: Sampler = {
    shouldSample: (parent, traceId, result) => current.shouldSample(parent, traceId, result),
    toString: () => current.toString(),
  };
  const { provider, processor, tracer } = testProvider({ sampler });
  return {
    provider,
    processor,
    /**
     * Runs `fn` inside a request's span (sampled, or unsampled: always_off), as a handler runs.
     * The span is ended after `fn` settles.
     */
    async inRequest<T>(sampled: boolean, fn: () => Promise<T>): Promise<T> {
      current = createSampler(sampled ? 'always_on' : 'always_off', 1);
      const span = tracer.startSpan('request');
      const context: Context = setSpan(agentContext.active(), span);
      try {
        return await agentContext.with(context, fn);
      } finally {
        span.end();
      }
    },
  };
}

/** Starts metrics with `recorder` (undefined: metrics off). */
export function useRecorder(recorder: RequestMetricsRecorder | undefined): void {
  requestMetrics.recorder = recorder;
}

/** The CLIENT spans recorded, in order. */
export function clientSpans(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return spans.filter((span) => span.name !== 'request');
}

/** A duration within what the test itself measured around the call. */
export function expectPlausibleSeconds(seconds: number, elapsedMs: number): void {
  expect(seconds).toBeGreaterThan(0);
  expect(seconds * 1000).toBeLessThanOrEqual(elapsedMs + 1);
}

/**
 * Patches the copy of `module` installed at `root` as the loader would: every patch of the
 * instrumentation for that module whose range holds the copy's version, on the file it names.
 */
export function patchInstalledCopy<S>(instrumentation: Instrumentation<S>, ctx: InstrumentationContext<S>, module: string, root: string): string {
  const requireFromRoot = createRequire(join(root, 'package.json'));
  const version = (requireFromRoot('./package.json') as { version: string }).version;
  for (const patch of instrumentation.patches ?? []) {
    if (patch.module !== module || !semver.satisfies(version, patch.versions)) continue;
    const exports = requireFromRoot(patch.file === undefined ? root : join(root, patch.file)) as unknown;
    patch.patch(exports, ctx, { module, version, viaImport: false });
  }
  return version;
}
