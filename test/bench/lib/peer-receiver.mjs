// The receiver for the other agents of `npm run bench -- --peers`, each in its own protocol:
// OTLP/protobuf on /v1/traces (OpenTelemetry), a Datadog agent's /v0.4 and /v0.5 traces
// (MessagePack) and an Elastic APM server's intake (ndjson, usually gzipped). It answers as the
// real servers do, so that no agent retries or logs errors, and counts per service what arrived.
// As CountingReceiver does, it only stores bodies during the load and decodes them when the
// counts are asked for: it shares the load generator's core.
import { createServer } from 'node:http';
import { constants, gunzipSync, inflateSync } from 'node:zlib';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../helpers/otlp-schema.mjs';
import { decodeMsgpack } from './msgpack.mjs';

const OTLP_RESPONSE = ExportTraceServiceResponse.encode({}).finish();
const OTLP_SERVER_KIND = 2;
// What GET / of an APM server answers; the Elastic agent reads the version to pick its features.
const APM_SERVER_INFO = JSON.stringify({ build_date: '2024-08-01T00:00:00Z', build_sha: 'bench', publish_ready: true, version: '8.15.0' });
const DATADOG_INFO = JSON.stringify({ version: '7.60.0', endpoints: ['/v0.4/traces', '/v0.5/traces'], client_drop_p0s: false });
const PROTOCOLS = {
  'POST /v1/traces': 'otlp',
  'PUT /v0.4/traces': 'datadog-v0.4',
  'POST /v0.4/traces': 'datadog-v0.4',
  'PUT /v0.5/traces': 'datadog-v0.5',
  'POST /v0.5/traces': 'datadog-v0.5',
  'POST /intake/v2/events': 'elastic',
};
// A truncated body (an agent killed mid-request) still decodes up to where it stops.
const LENIENT = { finishFlush: constants.Z_SYNC_FLUSH };

export class PeerReceiver {
  /** service.name → { payloads, bytes, spans, serverSpans } */
  services = new Map();
  /** Bodies not decoded yet: { protocol, body, encoding }. */
  undecoded = [];
  /** Requests to paths no agent should use, by method and path: a sign of a missing endpoint. */
  unexpected = new Map();
  /** Bodies that did not decode. */
  failures = 0;

  static async start() {
    const receiver = new PeerReceiver();
    receiver.server = createServer((req, res) => receiver.handle(req, res));
    receiver.server.keepAliveTimeout = 2_000;
    await new Promise((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.endpoint = `http://127.0.0.1:${receiver.server.address().port}`;
    return receiver;
  }

  handle(req, res) {
    const path = req.url.split('?')[0];
    const protocol = PROTOCOLS[`${req.method} ${path}`];
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    // The body of an agent killed mid-request still counts, as far as it came.
    req.on('close', () => {
      const body = Buffer.concat(chunks);
      if (protocol !== undefined && body.length > 0) this.undecoded.push({ protocol, body, encoding: req.headers['content-encoding'] });
    });
    req.on('end', () => {
      if (protocol === 'otlp') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(OTLP_RESPONSE);
      else if (protocol?.startsWith('datadog')) res.writeHead(200, { 'content-type': 'application/json' }).end('{"rate_by_service":{}}');
      else if (protocol === 'elastic') res.writeHead(202).end();
      else if (req.method === 'GET' && path === '/info') res.writeHead(200, { 'content-type': 'application/json' }).end(DATADOG_INFO);
      // dd-trace's DogStatsD client reports on itself every 10 s through the agent: accepted, not counted.
      else if (req.method === 'POST' && path === '/dogstatsd/v2/proxy') res.writeHead(200).end();
      // OTLP metrics (tracelet exports them by default): accepted, not counted as spans.
      else if (req.method === 'POST' && path === '/v1/metrics') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(OTLP_RESPONSE);
      else if (req.method === 'GET' && path === '/') res.writeHead(200, { 'content-type': 'application/json' }).end(APM_SERVER_INFO);
      else {
        const key = `${req.method} ${path}`;
        this.unexpected.set(key, (this.unexpected.get(key) ?? 0) + 1);
        res.writeHead(404).end();
      }
    });
  }

  /**
   * What arrived from the services named `serviceName` or `serviceName-…` (dd-trace names the
   * spans of a database client `<service>-postgres` and so on): { payloads, bytes, spans, serverSpans }.
   * Server spans are the requests an agent recorded: OTLP SERVER spans, Datadog spans of
   * span.kind server, Elastic transactions.
   */
  countsFor(serviceName) {
    for (const payload of this.undecoded) {
      try {
        this.decode(payload);
      } catch {
        this.failures++;
      }
    }
    this.undecoded = [];
    const total = { payloads: 0, bytes: 0, spans: 0, serverSpans: 0 };
    for (const [service, counts] of this.services) {
      if (service !== serviceName && !service.startsWith(`${serviceName}-`)) continue;
      for (const key of Object.keys(total)) total[key] += counts[key];
    }
    return total;
  }

  decode({ protocol, body, encoding }) {
    const raw = encoding === 'gzip' ? gunzipSync(body, LENIENT) : encoding === 'deflate' ? inflateSync(body, LENIENT) : body;
    // Each payload counts once, for the first service in it, with its bytes as they came over the wire.
    let first = true;
    const add = (service, spans, serverSpans) => {
      let counts = this.services.get(service);
      if (counts === undefined) this.services.set(service, (counts = { payloads: 0, bytes: 0, spans: 0, serverSpans: 0 }));
      counts.spans += spans;
      counts.serverSpans += serverSpans;
      if (first) {
        counts.payloads++;
        counts.bytes += body.length;
        first = false;
      }
    };
    if (protocol === 'otlp') {
      for (const resourceSpans of ExportTraceServiceRequest.decode(raw).resourceSpans ?? []) {
        const name = resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name');
        const spans = (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) => scopeSpans.spans ?? []);
        add(name?.value?.stringValue ?? '', spans.length, spans.filter((span) => span.kind === OTLP_SERVER_KIND).length);
      }
    } else if (protocol === 'datadog-v0.4') {
      // An array of traces, each an array of spans, each a map.
      for (const trace of decodeMsgpack(raw)) {
        for (const span of trace) add(span.service ?? '', 1, span.meta?.['span.kind'] === 'server' ? 1 : 0);
      }
    } else if (protocol === 'datadog-v0.5') {
      // [strings, traces]: each span an array whose strings are indexes into the table.
      const [strings, traces] = decodeMsgpack(raw);
      const kindKey = strings.indexOf('span.kind');
      for (const trace of traces) {
        for (const span of trace) add(strings[span[0]] ?? '', 1, strings[span[9]?.[kindKey]] === 'server' ? 1 : 0);
      }
    } else {
      // ndjson: a metadata line naming the service, then one event a line.
      let service = '';
      let spans = 0;
      let transactions = 0;
      for (const line of raw.toString('utf8').split('\n')) {
        if (line.startsWith('{"metadata":')) service = JSON.parse(line).metadata?.service?.name ?? '';
        else if (line.startsWith('{"transaction":')) transactions++;
        else if (line.startsWith('{"span":')) spans++;
      }
      add(service, spans + transactions, transactions);
    }
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}
