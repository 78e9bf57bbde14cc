import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDir } from '../helpers/app-dir';
import { receiverForEachTest } from '../helpers/otlp-receiver';
import { agentLines, FIXTURES, REGISTER_CJS, runApp } from '../helpers/run-app';

const MANUAL = join(FIXTURES, 'manual-api.cjs');

const receiver = receiverForEachTest();

const scrub = (stdout: string) => stdout.replace(/"traceId":"[0-9a-f]+"|"spanId":"[0-9a-f]+"|"traceFlags":\d/g, '');

describe('diagnostics and configuration, as a user meets them', () => {
  it('OTEL_SDK_DISABLED=true: the agent does nothing at all', async () => {
    const disabled = await runApp({
      script: MANUAL,
      env: { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint, OTEL_LOG_LEVEL: 'debug' },
    });
    const bare = await runApp({ script: MANUAL, preload: 'none' });
    expect(disabled.code).toBe(0);
    expect(disabled.stderr).toBe('');
    expect(scrub(disabled.stdout)).toBe(scrub(bare.stdout));
    expect(JSON.parse(disabled.stdout).agentActive).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver().attempts).toBe(0);
  });

  it('says at startup, in one line, what it will do', async () => {
    const result = await runApp({
      script: MANUAL,
      env: {
        OTEL_SERVICE_NAME: 'checkout',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.5',
        OTEL_PROPAGATORS: 'tracecontext,b3',
      },
    });
    const lines = agentLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\[tracelet\\] info: tracelet \\d+\\.\\d+\\.\\d+ started: service\\.name=checkout, ` +
          `exporter=otlp http/protobuf http://127\\.0\\.0\\.1:${receiver().port}/v1/traces, ` +
          'sampler=ParentBased\\{root=TraceIdRatioBased\\{0\\.5\\}\\}, propagators=tracecontext,b3, instrumentations=',
      ),
    );
  });

  it('warns once per bad variable, naming it and its value, and runs on the defaults', async () => {
    const result = await runApp({
      script: MANUAL,
      env: {
        OTEL_SERVICE_NAME: 'e2e-manual',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint,
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: 'abc',
        OTEL_TRACES_EXPORTER: 'otlp,zipkin',
        OTEL_BSP_MAX_QUEUE_SIZE: '-1',
        OTEL_PROPAGATORS: 'tracecontext,nonsense',
      },
    });
    expect(result.code).toBe(0);
    const warnings = agentLines(result.stderr).filter((line) => line.includes('warn:'));
    expect(warnings).toHaveLength(4);
    expect(warnings.join('\n')).toContain('OTEL_TRACES_SAMPLER_ARG="abc" is invalid');
    expect(warnings.join('\n')).toContain('OTEL_TRACES_EXPORTER="otlp,zipkin" is invalid');
    expect(warnings.join('\n')).toContain('OTEL_BSP_MAX_QUEUE_SIZE="-1" is invalid');
    expect(warnings.join('\n')).toContain('OTEL_PROPAGATORS="tracecontext,nonsense" is invalid');
    await receiver().waitForSpans(6);
  });

  it('OTEL_LOG_LEVEL=none silences the agent entirely', async () => {
    const result = await runApp({
      script: MANUAL,
      env: { OTEL_LOG_LEVEL: 'none', OTEL_BSP_SCHEDULE_DELAY: 'soon', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('is harmless when loaded twice (--require and --import): one start, no duplicate spans', async () => {
    const result = await runApp({
      script: join(FIXTURES, 'manual-api.mjs'),
      preload: 'both',
      env: { OTEL_SERVICE_NAME: 'twice', OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint },
    });
    expect(result.code).toBe(0);
    expect(agentLines(result.stderr).filter((line) => line.includes('started'))).toHaveLength(1);
    await receiver().waitForSpans(6);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver().spans).toHaveLength(6);
  });

  it("names the service after the application's package.json when OTEL_SERVICE_NAME is unset", async () => {
    const dir = makeAppDir({
      packageJson: { name: '@acme/checkout', version: '4.5.6' },
      fixtures: ['manual-api.cjs', 'manual-api-body.cjs'],
      links: ['@opentelemetry/api'],
    });
    await runApp({ script: join(dir, 'manual-api.cjs'), cwd: dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint } });
    const [span] = await receiver().waitForSpans(6);
    expect(span!.resource['service.name']).toBe('@acme/checkout');
    expect(span!.resource['service.version']).toBe('4.5.6');
  });

  it('falls back to unknown_service:node without any name', async () => {
    const dir = makeAppDir({ fixtures: ['manual-api.cjs', 'manual-api-body.cjs'], links: ['@opentelemetry/api'] });
    await runApp({ script: join(dir, 'manual-api.cjs'), cwd: dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint } });
    const [span] = await receiver().waitForSpans(6);
    expect(span!.resource['service.name']).toBe('unknown_service:node');
  });

  it('prints finished traces as a tree with OTEL_TRACES_EXPORTER=console', async () => {
    const result = await runApp({ script: MANUAL, env: { OTEL_SERVICE_NAME: 'console-svc', OTEL_TRACES_EXPORTER: 'console' } });
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('console-svc');
    const parentLine = out.split('\n').findIndex((line) => /\bparent\b/.test(line));
    const childLine = out.split('\n').findIndex((line) => /\bchild\b/.test(line));
    expect(parentLine).toBeGreaterThanOrEqual(0);
    expect(childLine).toBeGreaterThan(parentLine);
    expect(out.split('\n')[childLine]).toMatch(/[├└]─/);
    expect(out).not.toContain('[object Object]');
    expect(out).not.toMatch(/\{\s*"?name"?:/);
  });

  it('reports another SDK trying to take over the global tracer provider', async () => {
    const result = await runApp({
      script: join(FIXTURES, 'duplicate-sdk.cjs'),
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint },
    });
    expect(JSON.parse(result.stdout)).toEqual({ accepted: false });
    expect(agentLines(result.stderr).join('\n')).toContain('Attempted duplicate registration of API: trace');
    const spans = await receiver().waitForSpans(1);
    expect(spans[0]!.name).toBe('still traced');
  });

  it('warns when another SDK registered the global tracer provider before the agent started', async () => {
    const result = await runApp({
      script: MANUAL,
      preload: 'none',
      execArgv: ['--require', join(FIXTURES, 'other-sdk.cjs'), '--require', REGISTER_CJS],
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint },
    });
    expect(result.code).toBe(0);
    expect(agentLines(result.stderr).join('\n')).toMatch(
      /warn: another OpenTelemetry SDK \(@opentelemetry\/api 1\.\d+\.\d+\) already registered the global tracer provider/,
    );
  });

  it('warns when the application brings an @opentelemetry/api too new to see the agent', async () => {
    const dir = makeAppDir({ fixtures: ['api-consumer.cjs'], apiVersion: '1.99.0' });
    const result = await runApp({ script: join(dir, 'api-consumer.cjs'), cwd: dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint } });
    expect(result.stdout).toBe('ok\n');
    expect(agentLines(result.stderr).join('\n')).toContain('the application loads @opentelemetry/api 1.99.0');
  });

  it('warns about it in an ES module application too (whose import of the API no require hook sees)', async () => {
    const dir = makeAppDir({ fixtures: ['api-consumer.mjs'], apiVersion: '1.99.0' });
    const result = await runApp({ script: join(dir, 'api-consumer.mjs'), cwd: dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint } });
    expect(result.stdout).toBe('ok\n');
    expect(agentLines(result.stderr).join('\n')).toContain('the application has @opentelemetry/api 1.99.0');
    const compatible = makeAppDir({ fixtures: ['api-consumer.mjs'], apiVersion: '1.3.0' });
    const quiet = await runApp({
      script: join(compatible, 'api-consumer.mjs'),
      cwd: compatible,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint },
    });
    expect(quiet.stdout).toBe('ok\n');
    expect(agentLines(quiet.stderr).filter((line) => !line.includes('started'))).toEqual([]);
  });

  it('does not warn about an older compatible @opentelemetry/api', async () => {
    const dir = makeAppDir({ fixtures: ['api-consumer.cjs'], apiVersion: '1.3.0' });
    const result = await runApp({ script: join(dir, 'api-consumer.cjs'), cwd: dir, env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint } });
    expect(agentLines(result.stderr).filter((line) => !line.includes('started'))).toEqual([]);
  });
});
