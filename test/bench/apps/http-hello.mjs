// A plain node:http service: GET /hello answers a short text.
import { createServer } from 'node:http';
import { announce } from './control.mjs';

const server = createServer((req, res) => {
  if (req.url === '/hello') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello world');
  } else {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => announce(server.address().port));
