import { describe, expect, it } from 'vitest';
import { parseConfig, parseSettings, type Env } from '../../../src/config/env';
import { parseKeyValueList } from '../../../src/config/key-value-list';

const parse = (env: Env) => parseConfig(env);

describe('defaults', () => {
  it('uses the OpenTelemetry defaults when nothing is set, without warnings', () => {
    const { config, warnings } = parse({});
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      disabled: false,
      logLevel: 'info',
      serviceName: undefined,
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      propagators: ['tracecontext', 'baggage'],
      exporters: ['otlp'],
      otlp: {
        tracesUrl: 'http://localhost:4318/v1/traces',
        protocol: 'http/protobuf',
        headers: {},
        timeoutMs: 10000,
        compression: 'none',
      },
      batch: { scheduleDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512, exportTimeoutMs: 30000 },
      limits: {
        attributeCountLimit: 128,
        attributeValueLengthLimit: Infinity,
        eventCountLimit: 128,
        linkCountLimit: 128,
        attributePerEventCountLimit: 128,
        attributePerLinkCountLimit: 128,
      },
      enabledInstrumentations: undefined,
      disabledInstrumentations: [],
    });
  });

  it('treats empty and blank values as unset', () => {
    const { config, warnings } = parse({ OTEL_TRACES_SAMPLER: '', OTEL_BSP_MAX_QUEUE_SIZE: '  ', OTEL_SERVICE_NAME: '' });
    expect(warnings).toEqual([]);
    expect(config.sampler).toBe('parentbased_always_on');
    expect(config.batch.maxQueueSize).toBe(2048);
    expect(config.serviceName).toBeUndefined();
  });
});

describe('valid values', () => {
  it('reads every variable', () => {
    const { config, warnings } = parse({
      OTEL_SDK_DISABLED: 'TRUE',
      OTEL_LOG_LEVEL: 'Debug',
      OTEL_SERVICE_NAME: 'checkout',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=prod,team=pay%20ments',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_PROPAGATORS: 'b3multi, jaeger,tracecontext',
      OTEL_TRACES_EXPORTER: 'console,otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'api-key=secret,authorization=Basic%20dXNlcjpwYXNz==',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
      OTEL_BSP_EXPORT_TIMEOUT: '2000',
      OTEL_ATTRIBUTE_COUNT_LIMIT: '16',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '64',
      OTEL_SPAN_EVENT_COUNT_LIMIT: '3',
      OTEL_SPAN_LINK_COUNT_LIMIT: '4',
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http, pg',
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'fastify',
    });
    expect(warnings).toEqual([]);
    expect(config).toMatchObject({
      disabled: true,
      logLevel: 'debug',
      serviceName: 'checkout',
      resourceAttributes: { 'deployment.environment.name': 'prod', team: 'pay ments' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      propagators: ['b3multi', 'jaeger', 'tracecontext'],
      exporters: ['console', 'otlp'],
      otlp: {
        tracesUrl: 'https://collector.example:4318/v1/traces',
        protocol: 'http/json',
        headers: { 'api-key': 'secret', authorization: 'Basic dXNlcjpwYXNz==' },
        timeoutMs: 2500,
        compression: 'gzip',
      },
      batch: { scheduleDelayMs: 100, maxQueueSize: 100, maxExportBatchSize: 10, exportTimeoutMs: 2000 },
      limits: {
        attributeCountLimit: 16,
        attributeValueLengthLimit: 64,
        eventCountLimit: 3,
        linkCountLimit: 4,
        attributePerEventCountLimit: 16,
        attributePerLinkCountLimit: 16,
      },
      enabledInstrumentations: ['http', 'pg'],
      disabledInstrumentations: ['fastify'],
    });
  });

  it('uses the traces-specific OTLP variables over the general ones, the endpoint as given', () => {
    const { config } = parse({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://general:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://specific:9999/custom/path',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'b=3',
      OTEL_EXPORTER_OTLP_TIMEOUT: '1000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none',
    });
    expect(config.otlp).toEqual({
      tracesUrl: 'http://specific:9999/custom/path',
      protocol: 'http/protobuf',
      headers: { a: '1', b: '3' },
      timeoutMs: 2000,
      compression: 'none',
    });
    expect(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/base' }).config.otlp.tracesUrl).toBe('http://c:4318/base/v1/traces');
  });

  it('lets span-specific limits override the general ones, and the spec and JS names for per-event/link limits', () => {
    const { config } = parse({
      OTEL_ATTRIBUTE_COUNT_LIMIT: '10',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '20',
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '5',
      OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '7',
      OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: '2',
      OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT: '3',
    });
    expect(config.limits).toMatchObject({
      attributeCountLimit: 5,
      attributeValueLengthLimit: 7,
      attributePerEventCountLimit: 2,
      attributePerLinkCountLimit: 3,
    });
  });

  it('reads none as an empty propagator or exporter list, and all as the verbose log level', () => {
    const { config, warnings } = parse({ OTEL_PROPAGATORS: 'none', OTEL_TRACES_EXPORTER: 'None', OTEL_LOG_LEVEL: 'all' });
    expect(warnings).toEqual([]);
    expect(config.propagators).toEqual([]);
    expect(config.exporters).toEqual([]);
    expect(config.logLevel).toBe('verbose');
  });

  it('ignores OTEL_TRACES_SAMPLER_ARG for samplers without a ratio', () => {
    const { config, warnings } = parse({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: 'abc' });
    expect(warnings).toEqual([]);
    expect(config.samplerRatio).toBe(1);
  });
});

describe('invalid values: one warning naming the variable and value, then the default', () => {
  const cases: Array<[Env, string, (c: ReturnType<typeof parse>['config']) => unknown, unknown]> = [
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'abc' }, 'OTEL_TRACES_SAMPLER_ARG="abc"', (c) => c.samplerRatio, 1],
    [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG="1.5"', (c) => c.samplerRatio, 1],
    [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER="sometimes"', (c) => c.sampler, 'parentbased_always_on'],
    [{ OTEL_TRACES_EXPORTER: 'zipkin' }, 'OTEL_TRACES_EXPORTER="zipkin"', (c) => c.exporters, ['otlp']],
    [{ OTEL_TRACES_EXPORTER: 'console,zipkin' }, 'OTEL_TRACES_EXPORTER="console,zipkin"', (c) => c.exporters, ['console']],
    [{ OTEL_PROPAGATORS: 'tracecontext,xray' }, 'OTEL_PROPAGATORS="tracecontext,xray"', (c) => c.propagators, ['tracecontext']],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '-5' }, 'OTEL_BSP_MAX_QUEUE_SIZE="-5"', (c) => c.batch.maxQueueSize, 2048],
    [{ OTEL_BSP_MAX_QUEUE_SIZE: '0' }, 'OTEL_BSP_MAX_QUEUE_SIZE="0"', (c) => c.batch.maxQueueSize, 2048],
    [{ OTEL_BSP_SCHEDULE_DELAY: '1.5' }, 'OTEL_BSP_SCHEDULE_DELAY="1.5"', (c) => c.batch.scheduleDelayMs, 5000],
    [{ OTEL_BSP_EXPORT_TIMEOUT: 'soon' }, 'OTEL_BSP_EXPORT_TIMEOUT="soon"', (c) => c.batch.exportTimeoutMs, 30000],
    [{ OTEL_ATTRIBUTE_COUNT_LIMIT: 'many' }, 'OTEL_ATTRIBUTE_COUNT_LIMIT="many"', (c) => c.limits.attributeCountLimit, 128],
    [{ OTEL_LOG_LEVEL: 'loud' }, 'OTEL_LOG_LEVEL="loud"', (c) => c.logLevel, 'info'],
    [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED="yes"', (c) => c.disabled, false],
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' },
      'OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4318"',
      (c) => c.otlp.tracesUrl,
      'http://localhost:4318/v1/traces',
    ],
    [
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'not a url' },
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="not a url"',
      (c) => c.otlp.tracesUrl,
      'http://localhost:4318/v1/traces',
    ],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }, 'OTEL_EXPORTER_OTLP_PROTOCOL="thrift"', (c) => c.otlp.protocol, 'http/protobuf'],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL=grpc', (c) => c.otlp.protocol, 'http/protobuf'],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' }, 'OTEL_EXPORTER_OTLP_COMPRESSION="brotli"', (c) => c.otlp.compression, 'none'],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, 'OTEL_EXPORTER_OTLP_TIMEOUT="0"', (c) => c.otlp.timeoutMs, 10000],
    [
      { OTEL_RESOURCE_ATTRIBUTES: 'good=1,noequals,=novalue,bad=%zz' },
      'OTEL_RESOURCE_ATTRIBUTES has a malformed entry',
      (c) => c.resourceAttributes,
      { good: '1' },
    ],
    [
      { OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' },
      'OTEL_BSP_MAX_EXPORT_BATCH_SIZE=20',
      (c) => c.batch.maxExportBatchSize,
      10,
    ],
  ];

  for (const [env, fragment, read, expected] of cases) {
    it(`${JSON.stringify(env)} -> ${JSON.stringify(expected)}`, () => {
      const { config, warnings } = parse(env);
      expect(read(config)).toEqual(expected);
      expect(warnings.length).toBeGreaterThanOrEqual(1);
      expect(warnings.every((w) => w.startsWith(Object.keys(env).find((k) => w.startsWith(k))!))).toBe(true);
      expect(warnings.some((w) => w.includes(fragment))).toBe(true);
    });
  }

  it('reports each malformed OTEL_RESOURCE_ATTRIBUTES entry once and keeps the good ones', () => {
    const { warnings } = parse({ OTEL_RESOURCE_ATTRIBUTES: 'good=1,noequals,=novalue,bad=%zz' });
    expect(warnings).toEqual([
      'OTEL_RESOURCE_ATTRIBUTES has a malformed entry "noequals"; it was skipped',
      'OTEL_RESOURCE_ATTRIBUTES has a malformed entry "=novalue"; it was skipped',
      'OTEL_RESOURCE_ATTRIBUTES has a malformed entry "bad=%zz"; it was skipped',
    ]);
  });

  it('never throws, whatever the environment holds', () => {
    const junk = ['', ' ', '\u0000', '%', '=', ',,,', '-1', 'NaN', 'Infinity', '1e400', 'true', '{}', 'x'.repeat(10000)];
    const names = [
      'OTEL_SDK_DISABLED',
      'OTEL_LOG_LEVEL',
      'OTEL_SERVICE_NAME',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
      'OTEL_PROPAGATORS',
      'OTEL_TRACES_EXPORTER',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_BSP_MAX_QUEUE_SIZE',
      'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
    ];
    for (const value of junk) {
      const env = Object.fromEntries(names.map((name) => [name, value]));
      expect(() => parse(env)).not.toThrow();
    }
  });
});

describe('key=value lists', () => {
  it('percent-decodes values, splits on the first = only, and trims', () => {
    expect(parseKeyValueList(' a = 1 , b=x%3Dy%2Cz , token=abc== ')).toEqual({
      entries: { a: '1', b: 'x=y,z', token: 'abc==' },
      malformed: [],
    });
  });
});

describe('checked name lists (an instrumentation setting)', () => {
  const read = (value: string | undefined) =>
    parseSettings({ X_NAMES: value }, (env) => env.checkedNames('X_NAMES', (entry) => /^[a-z*]+$/.test(entry), 'lowercase names', 'the defaults'));

  it('reads the names, none as an empty list, unset or blank as undefined', () => {
    expect(read('a, b,,c')).toEqual({ settings: ['a', 'b', 'c'], warnings: [] });
    expect(read('NONE')).toEqual({ settings: [], warnings: [] });
    expect(read(undefined)).toEqual({ settings: undefined, warnings: [] });
    expect(read('  ')).toEqual({ settings: undefined, warnings: [] });
  });

  it('rejects the whole list when one entry is invalid, naming the entries and what applies instead', () => {
    expect(read('a,B,c d')).toEqual({
      settings: undefined,
      warnings: ['X_NAMES="a,B,c d" is invalid (expected lowercase names; rejected B, c d); using the defaults'],
    });
  });
});
