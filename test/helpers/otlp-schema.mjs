import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

// Plain JavaScript so the benchmark's receiver (run by bare node) shares it with the tests.

/**
 * The official opentelemetry-proto schema (v1.4.0, shipped unmodified by @elastic/mockotlpserver
 * under opentelemetry/proto/...), loaded by protobufjs: the independent decoder tests check the
 * agent's encoding against.
 */
const SCHEMA_DIR = dirname(createRequire(import.meta.url).resolve('@elastic/mockotlpserver/package.json'));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('opentelemetry/') ? join(SCHEMA_DIR, target) : target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto', { keepCase: false });
root.resolveAll();

export const ExportTraceServiceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
export const ExportTraceServiceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
export const ExportMetricsServiceRequest = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
export const ExportMetricsServiceResponse = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse');

/** google.rpc.Status, what a collector sends with an error (from its published definition). */
export const RpcStatus = protobuf
  .parse(
    `syntax = "proto3"; package google.rpc;
     message Any { string type_url = 1; bytes value = 2; }
     message Status { int32 code = 1; string message = 2; repeated Any details = 3; }`,
  )
  .root.lookupType('google.rpc.Status');
