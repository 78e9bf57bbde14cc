// A Fastify service: /hello answers a small object; /work does what a typical route does, one
// PostgreSQL query, one Redis SET and GET and one outbound fetch to a local upstream
// (UPSTREAM_URL); its database clients connect only when UPSTREAM_URL is set.
import Fastify from 'fastify';
import { announce } from './control.mjs';

const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));

const upstream = process.env.UPSTREAM_URL;
if (upstream !== undefined) {
  const { default: pg } = await import('pg');
  const { createClient } = await import('redis');
  const pool = new pg.Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 10 });
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  await redis.connect();
  await pool.query('SELECT 1');

  app.get('/work', async (request) => {
    const key = `bench:work:${request.id}`;
    const { rows } = await pool.query('SELECT $1::int AS n, now() AS at', [key.length]);
    await redis.set(key, String(rows[0].n), { EX: 60 });
    const cached = await redis.get(key);
    const quote = await (await fetch(upstream)).json();
    return { n: rows[0].n, cached, price: quote.price };
  });
}

await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
announce(app.server.address().port);
