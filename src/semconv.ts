/**
 * Every attribute name (and enumerated value) the agent emits, following the current OpenTelemetry
 * semantic conventions. Keeping them in one module means a rename is one deliberate diff here
 * (test/unit/semconv.test.ts pins each string), never a typo scattered over instrumentations.
 *
 * Groups marked "development" have no stable name yet; they use the current development name,
 * which a future semantic conventions release may change.
 */

// --- service (stable) ---
export const ATTR_SERVICE_NAME = 'service.name';
export const ATTR_SERVICE_VERSION = 'service.version';

// --- telemetry.sdk (stable) ---
export const ATTR_TELEMETRY_SDK_NAME = 'telemetry.sdk.name';
export const ATTR_TELEMETRY_SDK_LANGUAGE = 'telemetry.sdk.language';
export const ATTR_TELEMETRY_SDK_VERSION = 'telemetry.sdk.version';
export const TELEMETRY_SDK_LANGUAGE_VALUE_NODEJS = 'nodejs';

// --- process (development) ---
export const ATTR_PROCESS_PID = 'process.pid';
export const ATTR_PROCESS_EXECUTABLE_NAME = 'process.executable.name';
export const ATTR_PROCESS_EXECUTABLE_PATH = 'process.executable.path';
export const ATTR_PROCESS_COMMAND = 'process.command';
export const ATTR_PROCESS_RUNTIME_NAME = 'process.runtime.name';
export const ATTR_PROCESS_RUNTIME_VERSION = 'process.runtime.version';
export const ATTR_PROCESS_RUNTIME_DESCRIPTION = 'process.runtime.description';

// --- host (development) ---
export const ATTR_HOST_NAME = 'host.name';
export const ATTR_HOST_ARCH = 'host.arch';
export const HOST_ARCH_VALUE_AMD64 = 'amd64';
export const HOST_ARCH_VALUE_ARM32 = 'arm32';
export const HOST_ARCH_VALUE_ARM64 = 'arm64';
export const HOST_ARCH_VALUE_PPC32 = 'ppc32';
export const HOST_ARCH_VALUE_PPC64 = 'ppc64';
export const HOST_ARCH_VALUE_S390X = 's390x';
export const HOST_ARCH_VALUE_X86 = 'x86';

// --- os (development) ---
export const ATTR_OS_TYPE = 'os.type';
export const OS_TYPE_VALUE_AIX = 'aix';
export const OS_TYPE_VALUE_DARWIN = 'darwin';
export const OS_TYPE_VALUE_FREEBSD = 'freebsd';
export const OS_TYPE_VALUE_LINUX = 'linux';
export const OS_TYPE_VALUE_NETBSD = 'netbsd';
export const OS_TYPE_VALUE_OPENBSD = 'openbsd';
export const OS_TYPE_VALUE_SOLARIS = 'solaris';
export const OS_TYPE_VALUE_WINDOWS = 'windows';

// --- container (stable) ---
export const ATTR_CONTAINER_ID = 'container.id';

// --- exception (stable) ---
/** Name of the span event that records an exception. */
export const EXCEPTION_EVENT_NAME = 'exception';
export const ATTR_EXCEPTION_TYPE = 'exception.type';
export const ATTR_EXCEPTION_MESSAGE = 'exception.message';
export const ATTR_EXCEPTION_STACKTRACE = 'exception.stacktrace';

// --- http (stable) ---
export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_HTTP_REQUEST_RESEND_COUNT = 'http.request.resend_count';
/** http.request.method for a method outside HTTP_KNOWN_METHODS (the original goes in method_original). */
export const HTTP_REQUEST_METHOD_VALUE_OTHER = '_OTHER';
/**
 * The methods http.request.method may carry as-is: the stable set (RFC 9110 plus PATCH from
 * RFC 5789). QUERY is still a development value, so it is reported as _OTHER for now.
 */
export const HTTP_KNOWN_METHODS: readonly string[] = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'];

const HTTP_REQUEST_HEADER_PREFIX = 'http.request.header.';
const HTTP_RESPONSE_HEADER_PREFIX = 'http.response.header.';

/** `http.request.header.<name>`; the conventions key headers by their lowercased name. */
export function httpRequestHeaderAttribute(name: string): string {
  return HTTP_REQUEST_HEADER_PREFIX + name.toLowerCase();
}

/** `http.response.header.<name>`, lowercased like the request form. */
export function httpResponseHeaderAttribute(name: string): string {
  return HTTP_RESPONSE_HEADER_PREFIX + name.toLowerCase();
}

// --- url (stable) ---
export const ATTR_URL_FULL = 'url.full';
export const ATTR_URL_PATH = 'url.path';
export const ATTR_URL_QUERY = 'url.query';
export const ATTR_URL_SCHEME = 'url.scheme';

// --- server and client (stable) ---
export const ATTR_SERVER_ADDRESS = 'server.address';
export const ATTR_SERVER_PORT = 'server.port';
export const ATTR_CLIENT_ADDRESS = 'client.address';
export const ATTR_CLIENT_PORT = 'client.port';

// --- network (stable) ---
export const ATTR_NETWORK_PEER_ADDRESS = 'network.peer.address';
export const ATTR_NETWORK_PEER_PORT = 'network.peer.port';
export const ATTR_NETWORK_PROTOCOL_NAME = 'network.protocol.name';
export const ATTR_NETWORK_PROTOCOL_VERSION = 'network.protocol.version';
export const ATTR_NETWORK_TRANSPORT = 'network.transport';
export const NETWORK_TRANSPORT_VALUE_TCP = 'tcp';
export const NETWORK_TRANSPORT_VALUE_UDP = 'udp';
export const NETWORK_TRANSPORT_VALUE_PIPE = 'pipe';
export const NETWORK_TRANSPORT_VALUE_UNIX = 'unix';
export const NETWORK_TRANSPORT_VALUE_QUIC = 'quic';

// --- user_agent (stable) ---
export const ATTR_USER_AGENT_ORIGINAL = 'user_agent.original';

// --- error (stable) ---
export const ATTR_ERROR_TYPE = 'error.type';
/** error.type when no better low-cardinality name for the error is known. */
export const ERROR_TYPE_VALUE_OTHER = '_OTHER';

// --- db (stable) ---
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_NAMESPACE = 'db.namespace';
export const ATTR_DB_COLLECTION_NAME = 'db.collection.name';
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
export const ATTR_DB_OPERATION_BATCH_SIZE = 'db.operation.batch.size';
export const ATTR_DB_QUERY_TEXT = 'db.query.text';
export const ATTR_DB_QUERY_SUMMARY = 'db.query.summary';
export const ATTR_DB_RESPONSE_STATUS_CODE = 'db.response.status_code';
export const ATTR_DB_STORED_PROCEDURE_NAME = 'db.stored_procedure.name';
export const DB_SYSTEM_NAME_VALUE_POSTGRESQL = 'postgresql';
export const DB_SYSTEM_NAME_VALUE_MYSQL = 'mysql';
export const DB_SYSTEM_NAME_VALUE_MARIADB = 'mariadb';
export const DB_SYSTEM_NAME_VALUE_MICROSOFT_SQL_SERVER = 'microsoft.sql_server';
// The values below are still development values of the stable attribute.
export const DB_SYSTEM_NAME_VALUE_OTHER_SQL = 'other_sql';
export const DB_SYSTEM_NAME_VALUE_REDIS = 'redis';
export const DB_SYSTEM_NAME_VALUE_MONGODB = 'mongodb';

// --- code (stable) ---
export const ATTR_CODE_FUNCTION_NAME = 'code.function.name';

// --- fastify: not in the semantic conventions; this agent's own names for its Fastify spans ---
export const ATTR_FASTIFY_HOOK_NAME = 'fastify.hook.name';
export const ATTR_FASTIFY_PLUGIN_NAME = 'fastify.plugin.name';

// --- express, koa, nestjs: not in the semantic conventions; this agent's own names ---
/** What an Express span stands for: `middleware`, `router`, `app` (a mounted sub-application) or `request_handler`. */
export const ATTR_EXPRESS_TYPE = 'express.type';
/** What a Koa span stands for: `middleware`, `router` or `request_handler`. */
export const ATTR_KOA_TYPE = 'koa.type';
/** What a NestJS span stands for: `handler`, `guard`, `interceptor` or `pipe`. */
export const ATTR_NESTJS_TYPE = 'nestjs.type';
/** The controller class of a NestJS handler span (`ArticlesController`). */
export const ATTR_NESTJS_CONTROLLER = 'nestjs.controller';

// --- keep rules: not in the semantic conventions; this agent's own names ---
/** Why a request the head sampler dropped was recorded after all: `error` or `slow`. */
export const ATTR_TRACELET_KEPT_BY = 'tracelet.kept_by';
export const TRACELET_KEPT_BY_VALUE_ERROR = 'error';
export const TRACELET_KEPT_BY_VALUE_SLOW = 'slow';

// --- attributes of metrics only (V8 runtime metrics: development; overflow: the metrics SDK specification) ---
export const ATTR_V8JS_GC_TYPE = 'v8js.gc.type';
export const V8JS_GC_TYPE_VALUE_MAJOR = 'major';
export const V8JS_GC_TYPE_VALUE_MINOR = 'minor';
export const V8JS_GC_TYPE_VALUE_INCREMENTAL = 'incremental';
export const V8JS_GC_TYPE_VALUE_WEAKCB = 'weakcb';
export const ATTR_V8JS_HEAP_SPACE_NAME = 'v8js.heap.space.name';
/** The one attribute of the series that takes the measurements beyond a metric's cardinality limit. */
export const ATTR_OTEL_METRIC_OVERFLOW = 'otel.metric.overflow';
