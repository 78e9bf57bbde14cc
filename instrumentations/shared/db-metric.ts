import type { Span } from '@opentelemetry/api';
import type { Failure, Measurement } from '../../src/instrumentation/outcome';
import { metricsClock, requestMetrics } from '../../src/instrumentation/request-metrics';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_REDIS,
} from '../../src/semconv';
import type { RedisTarget } from './redis-command';

/**
 * db.client.operation.duration of one database call (pg, mysql2, node-redis, ioredis), sampled
 * or not: the values its span has or would have, kept from the call's start until the Outcome
 * that ends the span records it. Made only while metrics are on (see measureDbOperation), so a
 * call costs nothing more while they are off.
 */
export class DbOperationMeasurement implements Measurement {
  namespace: string | undefined = undefined;
  serverAddress: string | undefined = undefined;
  serverPort: number | undefined = undefined;
  private recorded = false;

  constructor(
    public system: string,
    readonly operationName: string | undefined,
    readonly querySummary: string | undefined,
    /** metricsClock() when the call started: now, unless the call waited to be published (a queue). */
    private readonly start = metricsClock(),
  ) {}

  record(failure: Failure | undefined): void {
    if (this.recorded) return;
    this.recorded = true;
    const recorder = requestMetrics.recorder;
    if (recorder === undefined) return;
    recorder.dbClient(
      (metricsClock() - this.start) / 1000,
      this.systemName(),
      this.namespace,
      this.operationName,
      this.querySummary,
      failure?.statusCode,
      failure?.type,
      this.serverAddress,
      this.serverPort,
    );
  }

  /** The attributes of a dropped call's span that a keep rule records after all: those its metric has. */
  describeSpan(span: Span): void {
    span.setAttribute(ATTR_DB_SYSTEM_NAME, this.systemName());
    if (this.namespace !== undefined) span.setAttribute(ATTR_DB_NAMESPACE, this.namespace);
    if (this.operationName !== undefined) span.setAttribute(ATTR_DB_OPERATION_NAME, this.operationName);
    if (this.querySummary !== undefined) span.setAttribute(ATTR_DB_QUERY_SUMMARY, this.querySummary);
    if (this.serverAddress !== undefined) span.setAttribute(ATTR_SERVER_ADDRESS, this.serverAddress);
    if (this.serverPort !== undefined) span.setAttribute(ATTR_SERVER_PORT, this.serverPort);
  }

  /** db.system.name as known once the call ended (mysql2 learns MariaDB from the server's greeting). */
  protected systemName(): string {
    return this.system;
  }
}

/** True while metrics are on: the one check a call makes before measuring anything. */
export function metricsOn(): boolean {
  return requestMetrics.recorder !== undefined;
}

/**
 * Sets the attributes a database span shares with its metric from the measurement, so that a
 * sampled call reads its connection's configuration once for both.
 */
export function setMeasuredTargetAttributes(span: Span, measurement: DbOperationMeasurement): void {
  span.setAttribute(ATTR_DB_SYSTEM_NAME, measurement.system);
  if (measurement.namespace !== undefined) span.setAttribute(ATTR_DB_NAMESPACE, measurement.namespace);
  if (measurement.serverAddress !== undefined) span.setAttribute(ATTR_SERVER_ADDRESS, measurement.serverAddress);
  if (measurement.serverPort !== undefined) span.setAttribute(ATTR_SERVER_PORT, measurement.serverPort);
}

/**
 * The duration metric of a Redis command (node-redis, ioredis), with the values its span has:
 * db.operation.name the command, db.namespace the database index, server.* as the client knows them.
 */
export function measureRedisCommand(operation: string, target: RedisTarget, start?: number): DbOperationMeasurement {
  const measurement = new DbOperationMeasurement(DB_SYSTEM_NAME_VALUE_REDIS, operation, undefined, start);
  if (target.database !== undefined && target.database !== null) measurement.namespace = String(target.database);
  if (typeof target.serverAddress === 'string' && target.serverAddress !== '') measurement.serverAddress = target.serverAddress;
  if (typeof target.serverPort === 'number') measurement.serverPort = target.serverPort;
  return measurement;
}
