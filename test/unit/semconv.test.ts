import { describe, expect, it } from 'vitest';
import * as semconv from '../../src/semconv';

describe('semconv', () => {
  it('pins every exported name and value (adding, renaming or removing one must change this test)', () => {
    const constants = Object.fromEntries(Object.entries(semconv).filter(([, value]) => typeof value !== 'function'));
    expect(constants).toStrictEqual({
      ATTR_SERVICE_NAME: 'service.name',
      ATTR_SERVICE_VERSION: 'service.version',

      ATTR_TELEMETRY_SDK_NAME: 'telemetry.sdk.name',
      ATTR_TELEMETRY_SDK_LANGUAGE: 'telemetry.sdk.language',
      ATTR_TELEMETRY_SDK_VERSION: 'telemetry.sdk.version',
      TELEMETRY_SDK_LANGUAGE_VALUE_NODEJS: 'nodejs',

      ATTR_PROCESS_PID: 'process.pid',
      ATTR_PROCESS_EXECUTABLE_NAME: 'process.executable.name',
      ATTR_PROCESS_EXECUTABLE_PATH: 'process.executable.path',
      ATTR_PROCESS_COMMAND: 'process.command',
      ATTR_PROCESS_RUNTIME_NAME: 'process.runtime.name',
      ATTR_PROCESS_RUNTIME_VERSION: 'process.runtime.version',
      ATTR_PROCESS_RUNTIME_DESCRIPTION: 'process.runtime.description',

      ATTR_HOST_NAME: 'host.name',
      ATTR_HOST_ARCH: 'host.arch',
      HOST_ARCH_VALUE_AMD64: 'amd64',
      HOST_ARCH_VALUE_ARM32: 'arm32',
      HOST_ARCH_VALUE_ARM64: 'arm64',
      HOST_ARCH_VALUE_PPC32: 'ppc32',
      HOST_ARCH_VALUE_PPC64: 'ppc64',
      HOST_ARCH_VALUE_S390X: 's390x',
      HOST_ARCH_VALUE_X86: 'x86',

      ATTR_OS_TYPE: 'os.type',
      OS_TYPE_VALUE_AIX: 'aix',
      OS_TYPE_VALUE_DARWIN: 'darwin',
      OS_TYPE_VALUE_FREEBSD: 'freebsd',
      OS_TYPE_VALUE_LINUX: 'linux',
      OS_TYPE_VALUE_NETBSD: 'netbsd',
      OS_TYPE_VALUE_OPENBSD: 'openbsd',
      OS_TYPE_VALUE_SOLARIS: 'solaris',
      OS_TYPE_VALUE_WINDOWS: 'windows',

      ATTR_CONTAINER_ID: 'container.id',

      EXCEPTION_EVENT_NAME: 'exception',
      ATTR_EXCEPTION_TYPE: 'exception.type',
      ATTR_EXCEPTION_MESSAGE: 'exception.message',
      ATTR_EXCEPTION_STACKTRACE: 'exception.stacktrace',

      ATTR_HTTP_REQUEST_METHOD: 'http.request.method',
      ATTR_HTTP_REQUEST_METHOD_ORIGINAL: 'http.request.method_original',
      ATTR_HTTP_RESPONSE_STATUS_CODE: 'http.response.status_code',
      ATTR_HTTP_ROUTE: 'http.route',
      ATTR_HTTP_REQUEST_RESEND_COUNT: 'http.request.resend_count',
      HTTP_REQUEST_METHOD_VALUE_OTHER: '_OTHER',
      HTTP_KNOWN_METHODS: ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'],

      ATTR_URL_FULL: 'url.full',
      ATTR_URL_PATH: 'url.path',
      ATTR_URL_QUERY: 'url.query',
      ATTR_URL_SCHEME: 'url.scheme',

      ATTR_SERVER_ADDRESS: 'server.address',
      ATTR_SERVER_PORT: 'server.port',
      ATTR_CLIENT_ADDRESS: 'client.address',
      ATTR_CLIENT_PORT: 'client.port',

      ATTR_NETWORK_PEER_ADDRESS: 'network.peer.address',
      ATTR_NETWORK_PEER_PORT: 'network.peer.port',
      ATTR_NETWORK_PROTOCOL_NAME: 'network.protocol.name',
      ATTR_NETWORK_PROTOCOL_VERSION: 'network.protocol.version',
      ATTR_NETWORK_TRANSPORT: 'network.transport',
      NETWORK_TRANSPORT_VALUE_TCP: 'tcp',
      NETWORK_TRANSPORT_VALUE_UDP: 'udp',
      NETWORK_TRANSPORT_VALUE_PIPE: 'pipe',
      NETWORK_TRANSPORT_VALUE_UNIX: 'unix',
      NETWORK_TRANSPORT_VALUE_QUIC: 'quic',

      ATTR_USER_AGENT_ORIGINAL: 'user_agent.original',

      ATTR_ERROR_TYPE: 'error.type',
      ERROR_TYPE_VALUE_OTHER: '_OTHER',

      ATTR_DB_SYSTEM_NAME: 'db.system.name',
      ATTR_DB_NAMESPACE: 'db.namespace',
      ATTR_DB_COLLECTION_NAME: 'db.collection.name',
      ATTR_DB_OPERATION_NAME: 'db.operation.name',
      ATTR_DB_OPERATION_BATCH_SIZE: 'db.operation.batch.size',
      ATTR_DB_QUERY_TEXT: 'db.query.text',
      ATTR_DB_QUERY_SUMMARY: 'db.query.summary',
      ATTR_DB_RESPONSE_STATUS_CODE: 'db.response.status_code',
      ATTR_DB_STORED_PROCEDURE_NAME: 'db.stored_procedure.name',
      ATTR_CODE_FUNCTION_NAME: 'code.function.name',
      ATTR_FASTIFY_HOOK_NAME: 'fastify.hook.name',
      ATTR_FASTIFY_PLUGIN_NAME: 'fastify.plugin.name',
      ATTR_EXPRESS_TYPE: 'express.type',
      ATTR_KOA_TYPE: 'koa.type',
      ATTR_NESTJS_TYPE: 'nestjs.type',
      ATTR_NESTJS_CONTROLLER: 'nestjs.controller',

      ATTR_TRACELET_KEPT_BY: 'tracelet.kept_by',
      TRACELET_KEPT_BY_VALUE_ERROR: 'error',
      TRACELET_KEPT_BY_VALUE_SLOW: 'slow',
      ATTR_V8JS_GC_TYPE: 'v8js.gc.type',
      V8JS_GC_TYPE_VALUE_MAJOR: 'major',
      V8JS_GC_TYPE_VALUE_MINOR: 'minor',
      V8JS_GC_TYPE_VALUE_INCREMENTAL: 'incremental',
      V8JS_GC_TYPE_VALUE_WEAKCB: 'weakcb',
      ATTR_V8JS_HEAP_SPACE_NAME: 'v8js.heap.space.name',
      ATTR_OTEL_METRIC_OVERFLOW: 'otel.metric.overflow',
      DB_SYSTEM_NAME_VALUE_POSTGRESQL: 'postgresql',
      DB_SYSTEM_NAME_VALUE_MYSQL: 'mysql',
      DB_SYSTEM_NAME_VALUE_MARIADB: 'mariadb',
      DB_SYSTEM_NAME_VALUE_MICROSOFT_SQL_SERVER: 'microsoft.sql_server',
      DB_SYSTEM_NAME_VALUE_OTHER_SQL: 'other_sql',
      DB_SYSTEM_NAME_VALUE_REDIS: 'redis',
      DB_SYSTEM_NAME_VALUE_MONGODB: 'mongodb',
    });
  });

  it('builds header attribute names from the lowercased header name', () => {
    expect(semconv.httpRequestHeaderAttribute('Content-Type')).toBe('http.request.header.content-type');
    expect(semconv.httpRequestHeaderAttribute('x-forwarded-for')).toBe('http.request.header.x-forwarded-for');
    expect(semconv.httpResponseHeaderAttribute('X-Request-ID')).toBe('http.response.header.x-request-id');
  });

  it('exports only the header helpers as functions', () => {
    const helpers = Object.entries(semconv)
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name)
      .sort();
    expect(helpers).toEqual(['httpRequestHeaderAttribute', 'httpResponseHeaderAttribute']);
  });
});
