// A tiny service: an HTTP endpoint that calls an inventory service, a call to it, and two spans
// of its own made with @opentelemetry/api (`checkout` around the call, `load user` in the
// handler). It has no tracing code beyond those two spans: the agent, loaded with
// `node --import ./register.mjs`, does the rest. It starts the inventory service itself (in the
// same process, on another port) and stops by itself after one request.
//
// The handler is written the way services often are at first, and the trace shows it under the
// tree (`insights:`): it fetches the order's items one request at a time (an N+1), then the
// prices and the stock one after the other although neither needs the other.
import http from 'node:http';
import { trace } from '@opentelemetry/api';

const tracer = trace.getTracer('quickstart');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The inventory service: each answer takes a few milliseconds.
const inventory = http.createServer(async (req, res) => {
  await sleep(req.url.startsWith('/items/') ? 3 : 30);
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url }));
});

const server = http.createServer(async (req, res) => {
  // Manual instrumentation lands in the same trace as the automatic spans.
  await tracer.startActiveSpan('load user', async (span) => {
    span.setAttribute('app.user.id', 42);
    await sleep(5);
    span.end();
  });
  const get = async (path) => (await fetch(`http://127.0.0.1:${inventory.address().port}${path}`)).json();
  const items = [];
  for (const id of [7, 12, 31, 44]) items.push(await get(`/items/${id}`));
  const prices = await get('/prices');
  const stock = await get('/stock');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ id: 42, name: 'Ada', items: items.length, prices: !!prices, stock: !!stock }));
});

const listening = (s) => new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
await Promise.all([listening(inventory), listening(server)]);

await tracer.startActiveSpan('checkout', async (span) => {
  const response = await fetch(`http://127.0.0.1:${server.address().port}/users/42?expand=orders`);
  console.log('GET /users/42 ->', response.status, await response.text());
  span.end();
});
for (const s of [server, inventory]) {
  s.close();
  s.closeAllConnections(); // fetch keeps connections alive; the example ends now
}
