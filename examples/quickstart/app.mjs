// A tiny service: an HTTP endpoint, a call to it, and two spans of its own made with
// @opentelemetry/api (`checkout` around the call, `load user` in the handler). It has no tracing
// code beyond those two spans: the agent, loaded with `node --import ./register.mjs`, does the
// rest. It stops by itself after one request.
import http from 'node:http';
import { trace } from '@opentelemetry/api';

const tracer = trace.getTracer('quickstart');

const server = http.createServer(async (req, res) => {
  // Manual instrumentation lands in the same trace as the automatic spans.
  await tracer.startActiveSpan('load user', async (span) => {
    span.setAttribute('app.user.id', 42);
    await new Promise((resolve) => setTimeout(resolve, 15));
    span.end();
  });
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: 42, name: 'Ada' }));
});

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  await tracer.startActiveSpan('checkout', async (span) => {
    const response = await fetch(`http://127.0.0.1:${port}/users/42?expand=orders`);
    console.log('GET /users/42 ->', response.status, await response.text());
    span.end();
  });
  server.close();
});
