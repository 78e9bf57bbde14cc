import { join } from 'node:path';
import { expect } from 'vitest';
import { makeAppDir, type AppDirOptions } from './app-dir';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver';
import { onlyOne } from './received-spans';
import { runApp, type Preload } from './run-app';

/**
 * The harness of the database driver tests (pg, mysql2): a scenario fixture (built on
 * fixtures/scenario-runner.cjs) runs every form of driver use, each inside a span of its own,
 * once without the agent and then under it; it prints `TABLE <name>` and `RESULT <json>`, and the
 * spans come back through a loopback OTLP receiver.
 */

export interface ScenarioRecord {
  readonly spanId: string;
  readonly traceId: string;
  readonly outcome: { readonly value?: unknown; readonly error?: Record<string, unknown> };
  readonly activeAfter?: string;
  readonly activeAfterAwait?: string;
  readonly activeInCallback?: string;
  readonly activeInRow?: string;
  readonly activeInConnect?: string;
  readonly clientError?: Record<string, unknown>;
}

export interface ScenarioRun {
  readonly stdout: string;
  readonly table: string;
  readonly results: Record<string, ScenarioRecord>;
  readonly spans: ReceivedSpan[];
  /** Every decoded export request, for searching exported text. */
  readonly exported: string;
}

export interface ScenarioAppOptions {
  /** The app directory: its fixtures (scenario-runner.cjs is added) and packages. */
  readonly dir: AppDirOptions;
  readonly script: string;
  readonly preload: Preload;
  readonly service: string;
  readonly env?: Record<string, string>;
}

export async function runScenarioApp(options: ScenarioAppOptions): Promise<ScenarioRun> {
  const receiver = await OtlpReceiver.start();
  try {
    const dir = makeAppDir({ ...options.dir, fixtures: [...(options.dir.fixtures ?? []), 'scenario-runner.cjs'] });
    const result = await runApp({
      script: join(dir, options.script),
      cwd: dir,
      preload: options.preload,
      env: { OTEL_SERVICE_NAME: options.service, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', ...options.env },
      timeoutMs: 60_000,
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const table = /^TABLE (\S+)$/m.exec(result.stdout)![1]!;
    const results = JSON.parse(/^RESULT (.*)$/m.exec(result.stdout)![1]!) as Record<string, ScenarioRecord>;
    if (options.preload !== 'none') {
      // Every scenario span is exported, and with it (ended earlier) every span inside it.
      const ids = Object.values(results).flatMap((record) => (record.spanId === undefined ? [] : [record.spanId]));
      const all = (spans: ReceivedSpan[]) => (ids.every((id) => spans.some((span) => span.spanId === id)) ? spans : undefined);
      await receiver.waitUntil(all, 10_000, () => 'not every scenario span was exported');
    }
    return {
      stdout: result.stdout,
      table,
      results,
      spans: receiver.spans,
      exported: JSON.stringify(receiver.requests.map((request) => request.message)),
    };
  } finally {
    await receiver.close();
  }
}

export const scenarioSpan = (run: ScenarioRun, name: string): ReceivedSpan => run.spans.find((span) => span.spanId === run.results[name]!.spanId)!;

export const childrenOf = (run: ScenarioRun, parent: ReceivedSpan): ReceivedSpan[] => run.spans.filter((span) => span.parentSpanId === parent.spanId);

/** The one child of a scenario's span with this name. */
export const child = (run: ScenarioRun, scenario: string, name: string): ReceivedSpan =>
  onlyOne(
    childrenOf(run, scenarioSpan(run, scenario)).filter((span) => span.name === name),
    `${scenario}: one child named ${name}`,
  );
