// The downstream service the Fastify app's /work route calls: a small JSON answer.
import { createServer } from 'node:http';
import { announce } from './control.mjs';

const body = JSON.stringify({ price: 42, currency: 'EUR' });
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => announce(server.address().port));
