/**
 * The metric names and bucket boundaries of the semantic conventions this agent emits (their
 * attribute names are in src/semconv.ts, with every other attribute name).
 *
 * HTTP and database durations are stable conventions; the Node.js and V8 runtime metrics are in
 * development and use their current names.
 */

export const METRIC_HTTP_SERVER_REQUEST_DURATION = 'http.server.request.duration';
export const METRIC_HTTP_CLIENT_REQUEST_DURATION = 'http.client.request.duration';
export const METRIC_DB_CLIENT_OPERATION_DURATION = 'db.client.operation.duration';

/** The advised boundaries of the HTTP duration histograms, in seconds. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
/** The advised boundaries of db.client.operation.duration, in seconds. */
export const DB_DURATION_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export const METRIC_NODEJS_EVENTLOOP_DELAY_MIN = 'nodejs.eventloop.delay.min';
export const METRIC_NODEJS_EVENTLOOP_DELAY_MAX = 'nodejs.eventloop.delay.max';
export const METRIC_NODEJS_EVENTLOOP_DELAY_MEAN = 'nodejs.eventloop.delay.mean';
export const METRIC_NODEJS_EVENTLOOP_DELAY_STDDEV = 'nodejs.eventloop.delay.stddev';
export const METRIC_NODEJS_EVENTLOOP_DELAY_P50 = 'nodejs.eventloop.delay.p50';
export const METRIC_NODEJS_EVENTLOOP_DELAY_P90 = 'nodejs.eventloop.delay.p90';
export const METRIC_NODEJS_EVENTLOOP_DELAY_P99 = 'nodejs.eventloop.delay.p99';
export const METRIC_NODEJS_EVENTLOOP_UTILIZATION = 'nodejs.eventloop.utilization';

export const METRIC_V8JS_MEMORY_HEAP_USED = 'v8js.memory.heap.used';
export const METRIC_V8JS_MEMORY_HEAP_LIMIT = 'v8js.memory.heap.limit';
export const METRIC_V8JS_MEMORY_HEAP_SPACE_AVAILABLE_SIZE = 'v8js.memory.heap.space.available_size';
export const METRIC_V8JS_MEMORY_HEAP_SPACE_PHYSICAL_SIZE = 'v8js.memory.heap.space.physical_size';
export const METRIC_V8JS_GC_DURATION = 'v8js.gc.duration';
/** The advised boundaries of v8js.gc.duration, in seconds. */
export const GC_DURATION_BUCKETS: readonly number[] = [0.01, 0.1, 1, 10];
