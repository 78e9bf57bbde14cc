// The service the W3C Trace Context test harness drives (see w3c-trace-context.mjs): a plain
// node:http server that, for each {url, arguments} it is posted, posts `arguments` to `url` with
// the client named by W3C_CLIENT (fetch or http). It knows nothing of trace context: the agent,
// preloaded, reads the harness's headers and writes the outgoing ones.
import http from 'node:http';

const client = process.env.W3C_CLIENT ?? 'fetch';
const port = Number(process.env.W3C_SERVICE_PORT ?? 5000);

function postWithHttp(url, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (response) => {
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function post(url, args) {
  const body = JSON.stringify(args);
  if (client === 'http') return postWithHttp(url, body);
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await response.arrayBuffer();
}

async function forward(body) {
  for (const { url, arguments: args } of JSON.parse(body)) await post(url, args);
}

const server = http.createServer((request, response) => {
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk) => (body += chunk));
  request.on('end', () => {
    forward(body).then(
      () => response.end('ok'),
      (error) => {
        response.statusCode = 500;
        response.end(String(error));
      },
    );
  });
});
server.listen(port, '127.0.0.1', () => console.log(`w3c service (${client}) on http://127.0.0.1:${port}/test`));
