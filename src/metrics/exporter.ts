import type { MetricData } from './data';

/**
 * Where a collection goes. export() never rejects: it runs in the application's process and
 * reports its own failures.
 */
export interface MetricsExporter {
  /** For messages and the startup line: `otlp http/protobuf <url>`, `console`. */
  readonly description: string;
  export(metrics: readonly MetricData[]): Promise<void>;
  /** Last-chance delivery from the process 'exit' listener; blocks for at most timeoutMs. */
  exportAtExit(metrics: readonly MetricData[], timeoutMs: number): void;
  shutdown(): Promise<void>;
}
