import { LOG_LEVELS, type LogLevel } from '../diag/logger';
import { parseKeyValueList } from './key-value-list';

/** Read-only view of the process environment (process.env, or a plain object in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger'] as const;
export type PropagatorName = (typeof PROPAGATORS)[number];

export const EXPORTERS = ['otlp', 'console'] as const;
export type ExporterName = (typeof EXPORTERS)[number];

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export const METRICS_EXPORTERS = ['otlp', 'console'] as const;
export type MetricsExporterName = (typeof METRICS_EXPORTERS)[number];

export const METRICS_TEMPORALITIES = ['cumulative', 'delta', 'lowmemory'] as const;
export type MetricsTemporalityPreference = (typeof METRICS_TEMPORALITIES)[number];

export interface SpanLimits {
  readonly attributeCountLimit: number;
  readonly attributeValueLengthLimit: number;
  readonly eventCountLimit: number;
  readonly linkCountLimit: number;
  readonly attributePerEventCountLimit: number;
  readonly attributePerLinkCountLimit: number;
}

export interface OtlpConfig {
  /** Full URL the spans are POSTed to. */
  readonly tracesUrl: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
}

export interface OtlpMetricsConfig {
  /** Full URL the metrics are POSTed to. */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
}

export interface MetricsConfig {
  /** Empty means no metrics at all (OTEL_METRICS_EXPORTER=none, or defaulted off: see consoleTracesOnly). */
  readonly exporters: readonly MetricsExporterName[];
  /**
   * OTEL_METRICS_EXPORTER was unset and traces go to the console only (or nowhere, with no OTLP
   * endpoint set): metrics default to none rather than to an OTLP endpoint nobody configured.
   */
  readonly defaultedOff: boolean;
  readonly otlp: OtlpMetricsConfig;
  /** OTEL_METRIC_EXPORT_INTERVAL. */
  readonly intervalMs: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT: the most one export may take. */
  readonly exportTimeoutMs: number;
  readonly temporality: MetricsTemporalityPreference;
  /** TRACELET_METRICS_CARDINALITY_LIMIT: series per metric before the overflow series. */
  readonly cardinalityLimit: number;
}

export interface BatchConfig {
  readonly scheduleDelayMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly exportTimeoutMs: number;
}

export interface AgentConfig {
  readonly disabled: boolean;
  readonly logLevel: LogLevel;
  /** OTEL_SERVICE_NAME, when set. */
  readonly serviceName: string | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES, percent-decoded, malformed entries left out. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: SamplerName;
  /** Ratio for the traceidratio samplers, in [0, 1]. */
  readonly samplerRatio: number;
  /** Empty means no propagation (OTEL_PROPAGATORS=none). */
  readonly propagators: readonly PropagatorName[];
  /** Empty means spans are not exported (OTEL_TRACES_EXPORTER=none). */
  readonly exporters: readonly ExporterName[];
  readonly otlp: OtlpConfig;
  readonly batch: BatchConfig;
  readonly metrics: MetricsConfig;
  readonly limits: SpanLimits;
  /** OTEL_NODE_ENABLED_INSTRUMENTATIONS; undefined means all. */
  readonly enabledInstrumentations: readonly string[] | undefined;
  readonly disabledInstrumentations: readonly string[];
}

export interface ParsedConfig {
  readonly config: AgentConfig;
  /** One message per rejected value, naming the variable and the value. */
  readonly warnings: readonly string[];
}

const DEFAULT_OTLP_BASE = 'http://localhost:4318';
const TRACES_PATH = 'v1/traces';
const METRICS_PATH = 'v1/metrics';

/** Every default in one place. */
export const DEFAULTS = {
  logLevel: 'info' as LogLevel,
  sampler: 'parentbased_always_on' as SamplerName,
  samplerRatio: 1,
  propagators: ['tracecontext', 'baggage'] as readonly PropagatorName[],
  exporters: ['otlp'] as readonly ExporterName[],
  otlpTracesUrl: `${DEFAULT_OTLP_BASE}/${TRACES_PATH}`,
  otlpProtocol: 'http/protobuf' as OtlpProtocol,
  otlpTimeoutMs: 10_000,
  scheduleDelayMs: 5_000,
  maxQueueSize: 2_048,
  maxExportBatchSize: 512,
  exportTimeoutMs: 30_000,
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
  eventCountLimit: 128,
  linkCountLimit: 128,
  metricsExporters: ['otlp'] as readonly MetricsExporterName[],
  otlpMetricsUrl: `${DEFAULT_OTLP_BASE}/${METRICS_PATH}`,
  metricExportIntervalMs: 60_000,
  metricExportTimeoutMs: 30_000,
  metricsTemporality: 'cumulative' as MetricsTemporalityPreference,
  metricsCardinalityLimit: 2_000,
} as const;

/**
 * Reads the configuration from OTEL_* variables. Pure and total: every bad value becomes a
 * warning plus the default, so nothing in the environment can stop the application.
 */
export function parseConfig(env: Env): ParsedConfig {
  const warnings: string[] = [];
  const read = new EnvReader(env, warnings);

  const generalCount = read.count('OTEL_ATTRIBUTE_COUNT_LIMIT', DEFAULTS.attributeCountLimit);
  const generalLength = read.count('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', DEFAULTS.attributeValueLengthLimit);
  const spanCount = read.count('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', generalCount);
  const limits: SpanLimits = {
    attributeCountLimit: spanCount,
    attributeValueLengthLimit: read.count('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', generalLength),
    eventCountLimit: read.count('OTEL_SPAN_EVENT_COUNT_LIMIT', DEFAULTS.eventCountLimit),
    linkCountLimit: read.count('OTEL_SPAN_LINK_COUNT_LIMIT', DEFAULTS.linkCountLimit),
    attributePerEventCountLimit: read.count(
      'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
      read.count('OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT', generalCount),
    ),
    attributePerLinkCountLimit: read.count('OTEL_LINK_ATTRIBUTE_COUNT_LIMIT', read.count('OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT', generalCount)),
  };

  const maxQueueSize = read.positiveInt('OTEL_BSP_MAX_QUEUE_SIZE', DEFAULTS.maxQueueSize);
  let maxExportBatchSize = read.positiveInt('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', DEFAULTS.maxExportBatchSize);
  if (maxExportBatchSize > maxQueueSize) {
    warnings.push(`OTEL_BSP_MAX_EXPORT_BATCH_SIZE=${maxExportBatchSize} is larger than the queue (${maxQueueSize}); using ${maxQueueSize}`);
    maxExportBatchSize = maxQueueSize;
  }

  const sampler = read.oneOf('OTEL_TRACES_SAMPLER', SAMPLERS, DEFAULTS.sampler);
  const exporters = read.list('OTEL_TRACES_EXPORTER', EXPORTERS, DEFAULTS.exporters);
  const config: AgentConfig = {
    disabled: read.bool('OTEL_SDK_DISABLED'),
    logLevel: read.logLevel(),
    serviceName: read.string('OTEL_SERVICE_NAME'),
    resourceAttributes: read.keyValues('OTEL_RESOURCE_ATTRIBUTES'),
    sampler,
    samplerRatio: sampler.endsWith('traceidratio') ? read.ratio('OTEL_TRACES_SAMPLER_ARG') : DEFAULTS.samplerRatio,
    propagators: read.list('OTEL_PROPAGATORS', PROPAGATORS, DEFAULTS.propagators),
    exporters,
    otlp: {
      tracesUrl: read.otlpTracesUrl(),
      protocol: read.otlpProtocol(),
      headers: {
        ...read.keyValues('OTEL_EXPORTER_OTLP_HEADERS'),
        ...read.keyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
      },
      timeoutMs: read.positiveInt('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', read.positiveInt('OTEL_EXPORTER_OTLP_TIMEOUT', DEFAULTS.otlpTimeoutMs)),
      compression: read.oneOf(
        'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION',
        ['gzip', 'none'] as const,
        read.oneOf('OTEL_EXPORTER_OTLP_COMPRESSION', ['gzip', 'none'] as const, 'none'),
      ),
    },
    batch: {
      scheduleDelayMs: read.count('OTEL_BSP_SCHEDULE_DELAY', DEFAULTS.scheduleDelayMs),
      maxQueueSize,
      maxExportBatchSize,
      exportTimeoutMs: read.positiveInt('OTEL_BSP_EXPORT_TIMEOUT', DEFAULTS.exportTimeoutMs),
    },
    metrics: parseMetricsConfig(env, exporters, warnings),
    limits,
    enabledInstrumentations: read.names('OTEL_NODE_ENABLED_INSTRUMENTATIONS'),
    disabledInstrumentations: read.names('OTEL_NODE_DISABLED_INSTRUMENTATIONS') ?? [],
  };
  return { config, warnings };
}

/** Variables only metrics read: their bad values are reported here (the shared ones are reported by the trace settings). */
const METRICS_VARIABLE = /^(OTEL_METRICS?_|OTEL_EXPORTER_OTLP_METRICS_|TRACELET_METRICS_)/;

/**
 * The metrics settings. The general OTEL_EXPORTER_OTLP_* variables apply unless a _METRICS_ one
 * says otherwise, as for traces. OTEL_METRICS_EXPORTER defaults to otlp, except when traces go to
 * the console only, or nowhere and no endpoint is set: then nobody configured an OTLP endpoint,
 * and metrics are not sent to one.
 */
function parseMetricsConfig(env: Env, traceExporters: readonly ExporterName[], warnings: string[]): MetricsConfig {
  const own: string[] = [];
  const read = new EnvReader(env, own);
  // Unset OTEL_METRICS_EXPORTER follows the traces: off when they go to the console only, or
  // nowhere with no OTLP endpoint configured (nobody asked for a collector at localhost:4318).
  const consoleTracesOnly = traceExporters.length === 1 && traceExporters[0] === 'console';
  const noTracesNoEndpoint =
    traceExporters.length === 0 &&
    read.string('OTEL_EXPORTER_OTLP_ENDPOINT') === undefined &&
    read.string('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT') === undefined;
  const defaultedOff = read.string('OTEL_METRICS_EXPORTER') === undefined && (consoleTracesOnly || noTracesNoEndpoint);
  const exporters = defaultedOff ? [] : read.list('OTEL_METRICS_EXPORTER', METRICS_EXPORTERS, DEFAULTS.metricsExporters);
  const config: MetricsConfig = {
    exporters,
    defaultedOff,
    otlp: {
      url: read.otlpSignalUrl('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', METRICS_PATH, DEFAULTS.otlpMetricsUrl),
      protocol: read.otlpSignalProtocol('OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'),
      headers: {
        ...read.keyValues('OTEL_EXPORTER_OTLP_HEADERS'),
        ...read.keyValues('OTEL_EXPORTER_OTLP_METRICS_HEADERS'),
      },
      timeoutMs: read.positiveInt('OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', read.positiveInt('OTEL_EXPORTER_OTLP_TIMEOUT', DEFAULTS.otlpTimeoutMs)),
      compression: read.oneOf(
        'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION',
        ['gzip', 'none'] as const,
        read.oneOf('OTEL_EXPORTER_OTLP_COMPRESSION', ['gzip', 'none'] as const, 'none'),
      ),
    },
    intervalMs: read.positiveInt('OTEL_METRIC_EXPORT_INTERVAL', DEFAULTS.metricExportIntervalMs),
    exportTimeoutMs: read.positiveInt('OTEL_METRIC_EXPORT_TIMEOUT', DEFAULTS.metricExportTimeoutMs),
    temporality: read.oneOf('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', METRICS_TEMPORALITIES, DEFAULTS.metricsTemporality),
    cardinalityLimit: read.positiveInt('TRACELET_METRICS_CARDINALITY_LIMIT', DEFAULTS.metricsCardinalityLimit),
  };
  for (const warning of own) if (METRICS_VARIABLE.test(warning)) warnings.push(warning);
  return config;
}

/**
 * An instrumentation's own settings (Instrumentation.readSettings), read by the same rules as the
 * core's: every bad value becomes a warning plus the default.
 */
export function parseSettings<S>(env: Env, read: (reader: EnvReader) => S): { readonly settings: S; readonly warnings: readonly string[] } {
  const warnings: string[] = [];
  return { settings: read(new EnvReader(env, warnings)), warnings };
}

/**
 * Reads one variable at a time; an empty value counts as unset, as the OpenTelemetry spec says.
 * A bad value is reported through the warnings list and read as the fallback.
 */
export class EnvReader {
  constructor(
    private readonly env: Env,
    private readonly warnings: string[],
  ) {}

  string(name: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined) return undefined;
    const value = raw.trim();
    return value === '' ? undefined : value;
  }

  private reject(name: string, value: string, expected: string, fallback: unknown): void {
    const shown = Array.isArray(fallback) ? fallback.join(',') || 'none' : String(fallback);
    this.warnings.push(`${name}=${JSON.stringify(value)} is invalid (expected ${expected}); using ${shown}`);
  }

  bool(name: string, fallback = false): boolean {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    this.reject(name, value, 'true or false', fallback);
    return fallback;
  }

  /** A whole number >= 0 (limits and delays, where 0 is meaningful). */
  count(name: string, fallback: number): number {
    return this.integer(name, fallback, 0);
  }

  /** A whole number >= 1 (sizes and timeouts, where 0 would disable the feature). */
  positiveInt(name: string, fallback: number): number {
    return this.integer(name, fallback, 1);
  }

  private integer(name: string, fallback: number, min: number): number {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      this.reject(name, value, `a whole number >= ${min}`, fallback);
      return fallback;
    }
    return n;
  }

  ratio(name: string): number {
    const value = this.string(name);
    if (value === undefined) return DEFAULTS.samplerRatio;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) {
      this.reject(name, value, 'a number from 0 to 1', DEFAULTS.samplerRatio);
      return DEFAULTS.samplerRatio;
    }
    return n;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase() as T;
    if (allowed.includes(lower)) return lower;
    this.reject(name, value, `one of ${allowed.join(', ')}`, fallback);
    return fallback;
  }

  logLevel(): LogLevel {
    const value = this.string('OTEL_LOG_LEVEL');
    if (value?.toLowerCase() === 'all') return 'verbose';
    return this.oneOf('OTEL_LOG_LEVEL', LOG_LEVELS, DEFAULTS.logLevel);
  }

  /** A comma-separated list of known names; `none` alone means an empty list. */
  list<T extends string>(name: string, allowed: readonly T[], fallback: readonly T[]): readonly T[] {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const entries = splitList(value).map((entry) => entry.toLowerCase());
    if (entries.length === 1 && entries[0] === 'none') return [];
    const known = [...new Set(entries.filter((entry): entry is T => allowed.includes(entry as T)))];
    const unknown = entries.filter((entry) => !allowed.includes(entry as T));
    if (unknown.length > 0) {
      const result = known.length > 0 ? known : fallback;
      this.reject(name, value, `a list of ${allowed.join(', ')} or none; ignored ${unknown.join(', ')}`, result);
      return result;
    }
    return known.length > 0 ? known : fallback;
  }

  /** Header names, compared case-insensitively, so kept lowercase. */
  headerNames(name: string): string[] {
    return [...new Set((this.names(name) ?? []).map((header) => header.toLowerCase()))];
  }

  names(name: string): string[] | undefined {
    const value = this.string(name);
    return value === undefined ? undefined : splitList(value);
  }

  /**
   * A comma-separated list of names that `valid` accepts each; `none` alone means an empty list.
   * Undefined when unset, or when an entry is not valid (reported, naming `fallback`): the
   * caller's default then applies.
   */
  checkedNames(name: string, valid: (entry: string) => boolean, expected: string, fallback: string): string[] | undefined {
    const entries = this.names(name);
    if (entries === undefined) return undefined;
    if (entries.length === 1 && entries[0]!.toLowerCase() === 'none') return [];
    const invalid = entries.filter((entry) => !valid(entry));
    if (invalid.length === 0) return entries;
    this.reject(name, this.string(name)!, `${expected}; rejected ${invalid.join(', ')}`, fallback);
    return undefined;
  }

  keyValues(name: string): Record<string, string> {
    const value = this.string(name);
    if (value === undefined) return {};
    const { entries, malformed } = parseKeyValueList(value);
    for (const entry of malformed) {
      this.warnings.push(`${name} has a malformed entry ${JSON.stringify(entry)}; it was skipped`);
    }
    return entries;
  }

  otlpTracesUrl(): string {
    return this.otlpSignalUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', TRACES_PATH, DEFAULTS.otlpTracesUrl);
  }

  /** The signal's own endpoint as is, else the general endpoint with the signal's path appended. */
  otlpSignalUrl(specificName: string, path: string, fallback: string): string {
    const specific = this.url(specificName, fallback);
    if (specific !== undefined) return specific;
    const base = this.url('OTEL_EXPORTER_OTLP_ENDPOINT', fallback);
    if (base === undefined) return fallback;
    return base.endsWith('/') ? `${base}${path}` : `${base}/${path}`;
  }

  private url(name: string, fallback: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value;
    } catch {
      // reported below
    }
    this.reject(name, value, 'an http:// or https:// URL', fallback);
    return undefined;
  }

  otlpProtocol(): OtlpProtocol {
    return this.otlpSignalProtocol('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
  }

  /** The signal's own protocol variable when set, else OTEL_EXPORTER_OTLP_PROTOCOL. */
  otlpSignalProtocol(specificName: string): OtlpProtocol {
    const allowed = ['http/protobuf', 'http/json'] as const;
    const name = this.string(specificName) !== undefined ? specificName : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    const value = this.string(name);
    if (value === 'grpc') {
      this.warnings.push(
        `${name}=grpc is not supported by this agent (it speaks OTLP over HTTP); using http/protobuf, so point the endpoint at the collector's HTTP port (4318)`,
      );
      return DEFAULTS.otlpProtocol;
    }
    return this.oneOf(name, allowed, DEFAULTS.otlpProtocol);
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}
