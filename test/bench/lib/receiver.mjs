// The benchmark's OTLP/HTTP receiver: it decodes every protobuf export with the official
// opentelemetry-proto schema (the tests' independent decoder) and counts spans per service and
// kind. A throughput run whose spans did not all arrive here is reported invalid.
// Decoding waits until the counts are asked for, after the load: the receiver shares the load
// generator's core, and decoding during the run would slow the load of the agent's runs only.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../../helpers/otlp-schema.mjs';

const EMPTY_RESPONSE = ExportTraceServiceResponse.encode({}).finish();
const SERVER_KIND = 2;

export class CountingReceiver {
  /** service.name → { spans, serverSpans } */
  services = new Map();
  exports = 0;
  bytes = 0;
  /** OTLP metrics exports (the agent exports metrics by default): accepted, counted apart from spans. */
  metricsExports = 0;
  /** Exports received and not yet decoded: [body, gzipped]. */
  undecoded = [];

  /**
   * decode: false only drains the exports (for the micro-benchmarks, whose servers share the
   * receiver's core and must not wait behind its decoding).
   */
  static async start({ decode = true } = {}) {
    const receiver = new CountingReceiver();
    receiver.decode = decode;
    receiver.server = createServer((req, res) => receiver.handle(req, res));
    // Exporters keep their connection alive; the receiver must not hold the benchmark open.
    receiver.server.keepAliveTimeout = 2_000;
    await new Promise((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    receiver.endpoint = `http://127.0.0.1:${receiver.server.address().port}`;
    return receiver;
  }

  countsFor(serviceName) {
    for (const [raw, gzipped] of this.undecoded) {
      try {
        this.count(ExportTraceServiceRequest.decode(gzipped ? gunzipSync(raw) : raw));
      } catch {
        // its spans are missing from the counts, so the run is reported invalid
      }
    }
    this.undecoded = [];
    return this.services.get(serviceName) ?? { spans: 0, serverSpans: 0 };
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const raw = Buffer.concat(chunks);
        if (req.url?.startsWith('/v1/metrics')) {
          this.metricsExports++;
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(EMPTY_RESPONSE);
          return;
        }
        this.bytes += raw.length;
        if (this.decode) this.undecoded.push([raw, req.headers['content-encoding'] === 'gzip']);
        this.exports++;
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(EMPTY_RESPONSE);
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    });
  }

  count(message) {
    for (const resourceSpans of message.resourceSpans ?? []) {
      const nameAttribute = resourceSpans.resource?.attributes?.find((attribute) => attribute.key === 'service.name');
      const service = nameAttribute?.value?.stringValue ?? '';
      let counts = this.services.get(service);
      if (counts === undefined) this.services.set(service, (counts = { spans: 0, serverSpans: 0 }));
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          counts.spans++;
          if (span.kind === SERVER_KIND) counts.serverSpans++;
        }
      }
    }
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}
