import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAppDir } from '../helpers/app-dir';
import { receiverForEachTest } from '../helpers/otlp-receiver';
import {
  agentLines,
  App,
  APP_NODE,
  childEnv,
  FIXTURES,
  REGISTER_CJS,
  REGISTER_MJS,
  REPO_ROOT,
  runApp,
  type AppResult,
  type Preload,
} from '../helpers/run-app';

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

  describe('says which loaded packages it does not instrument', () => {
    const reports = (stderr: string) => agentLines(stderr).filter((line) => line.includes('without instrumentation'));

    it.each([
      ['diagnostics-uninstrumented.cjs', 'require'],
      ['diagnostics-uninstrumented.mjs', 'import'],
    ] as const)('%s (%s): one line for startup, one for a later load, each package named once', async (script, preload: Preload) => {
      const dir = makeAppDir({ fixtures: [script], packages: ['mongodb', 'kafkajs', 'amqplib'] });
      const result = await runApp({ script: join(dir, script), cwd: dir, preload, env: { OTEL_TRACES_EXPORTER: 'none' } });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ mongo: 'function', kafka: 'function', amqp: 'function' });
      expect(reports(result.stderr)).toEqual([
        '[tracelet] info: loaded without instrumentation: mongodb 6.8, kafkajs 2.2',
        '[tracelet] info: loaded without instrumentation: amqplib 0.10',
      ]);
    });

    it('says nothing of them below info level, and nothing when the application loads none', async () => {
      const dir = makeAppDir({ fixtures: ['diagnostics-uninstrumented.cjs'], packages: ['mongodb', 'kafkajs', 'amqplib'] });
      const quiet = await runApp({
        script: join(dir, 'diagnostics-uninstrumented.cjs'),
        cwd: dir,
        env: { OTEL_TRACES_EXPORTER: 'none', OTEL_LOG_LEVEL: 'warn' },
      });
      expect(quiet.code).toBe(0);
      expect(quiet.stderr).toBe('');
      const plain = await runApp({ script: MANUAL, env: { OTEL_TRACES_EXPORTER: 'none' } });
      expect(reports(plain.stderr)).toEqual([]);
    });
  });

  it('says at debug, once each, which library version a channel-based instrumentation is active on', async () => {
    const dir = makeAppDir({ fixtures: ['diagnostics-channels.cjs'], linkedAliases: { fastify: 'fastify-v4' } });
    const result = await runApp({
      script: join(dir, 'diagnostics-channels.cjs'),
      cwd: dir,
      env: { OTEL_TRACES_EXPORTER: 'none', OTEL_LOG_LEVEL: 'debug' },
    });
    expect(result.code).toBe(0);
    const versions = JSON.parse(result.stdout) as { node: string; undici: string; fastify: string };
    expect(versions.fastify).toBe(JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/fastify-v4/package.json'), 'utf8')).version);
    const active = agentLines(result.stderr).filter((line) => line.includes(': active'));
    expect(active).toEqual([
      `[tracelet] debug: fetch: active on undici@${versions.undici} (diagnostics channels)`,
      `[tracelet] debug: fastify: active on fastify@${versions.fastify} (diagnostics channels)`,
    ]);
    // The same shape as the line of a module patch.
    expect(agentLines(result.stderr)).toContain(`[tracelet] debug: http: patched http@${versions.node}`);
  });

  it('stays out of the package manager under NODE_OPTIONS: `npm run` starts the agent in the application only', async () => {
    const dir = makeAppDir({
      packageJson: { name: 'npm-started-shop', version: '2.0.0', scripts: { start: 'node manual-api.cjs' } },
      fixtures: ['manual-api.cjs', 'manual-api-body.cjs'],
      links: ['@opentelemetry/api'],
    });
    const env = { NODE_OPTIONS: `--import ${REGISTER_MJS}`, OTEL_EXPORTER_OTLP_ENDPOINT: receiver().endpoint };
    const result = await npmRun(dir, 'start', env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).agentActive).toBe(true);
    const starts = agentLines(result.stderr).filter((line) => line.includes(' started: '));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toContain('service.name=npm-started-shop,');
    expect(agentLines(result.stderr)).toEqual(starts);
    const spans = await receiver().waitForSpans(6);
    expect(new Set(spans.map((span) => span.resource['service.name']))).toEqual(new Set(['npm-started-shop']));
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver().spans).toHaveLength(6);
  });
});

/** `npm run --silent <script>` in `dir`, with the application's Node first on PATH (npm runs `node` from there). */
function npmRun(dir: string, script: string, env: Record<string, string>): Promise<AppResult> {
  const path = `${dirname(APP_NODE)}${delimiter}${process.env.PATH ?? ''}`;
  const child = spawn('npm', ['run', '--silent', script], { cwd: dir, env: childEnv({ ...env, PATH: path }), stdio: ['ignore', 'pipe', 'pipe'] });
  return new App(child, 30_000).exited;
}
