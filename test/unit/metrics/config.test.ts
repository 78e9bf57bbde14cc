import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/env';

describe('metrics configuration', () => {
  it('defaults: OTLP protobuf to localhost:4318/v1/metrics every 60 s, cumulative, 2000 series per metric', () => {
    const { config, warnings } = parseConfig({});
    expect(warnings).toEqual([]);
    expect(config.metrics).toEqual({
      exporters: ['otlp'],
      defaultedOff: false,
      otlp: { url: 'http://localhost:4318/v1/metrics', protocol: 'http/protobuf', headers: {}, timeoutMs: 10_000, compression: 'none' },
      intervalMs: 60_000,
      exportTimeoutMs: 30_000,
      temporality: 'cumulative',
      cardinalityLimit: 2000,
    });
  });

  it('appends /v1/metrics to the general endpoint and uses the metrics endpoint as is', () => {
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).config.metrics.otlp.url).toBe('http://collector:4318/v1/metrics');
    expect(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).config.metrics.otlp.url).toBe('http://collector:4318/v1/metrics');
    expect(
      parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'https://m.example.com/custom' })
        .config.metrics.otlp.url,
    ).toBe('https://m.example.com/custom');
  });

  it('takes the metrics-specific protocol, headers, timeout and compression over the general ones', () => {
    const { config, warnings } = parseConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b=2',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'b=3',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '2000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
    });
    expect(warnings).toEqual([]);
    expect(config.metrics.otlp).toEqual({
      url: 'http://localhost:4318/v1/metrics',
      protocol: 'http/json',
      headers: { a: '1', b: '3' },
      timeoutMs: 2000,
      compression: 'gzip',
    });
    expect(config.otlp.protocol).toBe('http/protobuf');
    expect(config.otlp.headers).toEqual({ a: '1', b: '2' });
  });

  it('falls back to the general settings', () => {
    const { config } = parseConfig({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    });
    expect(config.metrics.otlp).toMatchObject({ protocol: 'http/json', timeoutMs: 5000, compression: 'gzip' });
  });

  it('reads the exporter list, interval, timeout, temporality and cardinality limit', () => {
    const { config, warnings } = parseConfig({
      OTEL_METRICS_EXPORTER: 'console,otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '1000',
      OTEL_METRIC_EXPORT_TIMEOUT: '500',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'Delta',
      TRACELET_METRICS_CARDINALITY_LIMIT: '50',
    });
    expect(warnings).toEqual([]);
    expect(config.metrics).toMatchObject({
      exporters: ['console', 'otlp'],
      intervalMs: 1000,
      exportTimeoutMs: 500,
      temporality: 'delta',
      cardinalityLimit: 50,
    });
    expect(parseConfig({ OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'lowmemory' }).config.metrics.temporality).toBe('lowmemory');
    expect(parseConfig({ OTEL_METRICS_EXPORTER: 'none' }).config.metrics.exporters).toEqual([]);
  });

  it('defaults metrics to none when OTEL_METRICS_EXPORTER is unset and traces go to the console only (or nowhere, without an endpoint)', () => {
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'console' }).config.metrics).toMatchObject({ exporters: [], defaultedOff: true });
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'otlp' }).config.metrics).toMatchObject({
      exporters: ['otlp'],
      defaultedOff: false,
    });
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'console,otlp' }).config.metrics.exporters).toEqual(['otlp']);
    // No traces and no endpoint: off too; an endpoint says a collector is there for the metrics.
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'none' }).config.metrics).toMatchObject({ exporters: [], defaultedOff: true });
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).config.metrics.exporters).toEqual(['otlp']);
    expect(parseConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://c:4318/m' }).config.metrics.exporters).toEqual([
      'otlp',
    ]);
  });

  it('warns once per bad metrics value and uses the default', () => {
    const { config, warnings } = parseConfig({
      OTEL_METRICS_EXPORTER: 'prometheus',
      OTEL_METRIC_EXPORT_INTERVAL: '0',
      OTEL_METRIC_EXPORT_TIMEOUT: 'soon',
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://x',
      TRACELET_METRICS_CARDINALITY_LIMIT: '-3',
    });
    expect(warnings).toHaveLength(6);
    expect(warnings.join('\n')).toContain('OTEL_METRICS_EXPORTER="prometheus" is invalid');
    expect(warnings.join('\n')).toContain('OTEL_METRIC_EXPORT_INTERVAL="0" is invalid (expected a whole number >= 1); using 60000');
    expect(warnings.join('\n')).toContain(
      'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="ftp://x" is invalid (expected an http:// or https:// URL); using http://localhost:4318/v1/metrics',
    );
    expect(warnings.join('\n')).toContain('TRACELET_METRICS_CARDINALITY_LIMIT="-3" is invalid (expected a whole number >= 1); using 2000');
    expect(config.metrics).toMatchObject({
      exporters: ['otlp'],
      intervalMs: 60_000,
      exportTimeoutMs: 30_000,
      temporality: 'cumulative',
      cardinalityLimit: 2000,
      otlp: { url: 'http://localhost:4318/v1/metrics' },
    });
  });

  it('reports a bad shared variable once, not once per signal', () => {
    const { warnings } = parseConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'nope',
      OTEL_EXPORTER_OTLP_TIMEOUT: '-1',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
    });
    expect(warnings).toHaveLength(3);
  });
});
