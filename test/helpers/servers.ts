import { connect } from 'node:net';
import pg from 'pg';

/**
 * The real servers the end-to-end tests talk to. Each check fails the test file at once, and
 * says how to start the server, when it is not there: a missing server is never a skipped test.
 */

export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.end();
  } catch (error) {
    throw new Error(
      `PostgreSQL is required at 127.0.0.1:5432 (user postgres, database test, trust auth): ${String(error)}. ` +
        'Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  }
}

/** Redis on 127.0.0.1:6379, answering PING. */
export async function requireRedis(): Promise<void> {
  const answer = await new Promise<string>((resolve) => {
    const socket = connect(6379, '127.0.0.1');
    socket.setTimeout(2000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => {
      resolve(data.toString());
      socket.end();
    });
    socket.on('error', (error) => resolve(String(error)));
  });
  if (!answer.startsWith('+PONG')) {
    throw new Error(
      `these tests need Redis on 127.0.0.1:6379 (got: ${answer.trim()}); start it with: ` +
        'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
    );
  }
}

/** MariaDB on 127.0.0.1:3306 (user root, no password, database test), answering a query. */
export async function requireMariadb(): Promise<void> {
  const mysql = (await import('mysql2/promise')).default;
  try {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectTimeout: 5_000 });
    await connection.query('SELECT 1');
    await connection.end();
  } catch (error) {
    throw new Error(
      `MariaDB is required at 127.0.0.1:3306 (user root, empty password, database test): ${String(error)}. ` +
        'Start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd',
    );
  }
}
