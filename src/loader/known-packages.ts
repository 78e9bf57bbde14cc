/**
 * Well-known packages the agent does not instrument, by kind. When an application loads one, the
 * agent says so at info level, so that missing spans never go unexplained. Packages that run on
 * an instrumented driver (knex, sequelize, typeorm on pg and mysql2) are deliberately absent, as
 * are the instrumented ones themselves.
 */
export const KNOWN_UNINSTRUMENTED: Readonly<Record<string, readonly string[]>> = {
  database: [
    'mongodb',
    'mongoose',
    'mysql',
    'mariadb',
    'tedious',
    'mssql',
    'oracledb',
    'better-sqlite3',
    'sqlite3',
    'cassandra-driver',
    '@elastic/elasticsearch',
    'memcached',
    'couchbase',
    'neo4j-driver',
    '@aws-sdk/client-dynamodb',
    '@prisma/client',
    '@prisma/engines',
  ],
  messaging: [
    'kafkajs',
    'amqplib',
    'nats',
    '@nats-io/transport-node',
    '@nats-io/jetstream',
    'bullmq',
    'bull',
    '@google-cloud/pubsub',
    '@aws-sdk/client-sqs',
    'rhea',
    'mqtt',
  ],
  rpc: ['@grpc/grpc-js', 'graphql', '@apollo/server', 'mercurius', 'socket.io', 'ws'],
  web: ['hapi', '@hapi/hapi', 'restify'],
};

/** Every package name of the list, for the module hooks to watch. */
export const KNOWN_UNINSTRUMENTED_NAMES: readonly string[] = Object.values(KNOWN_UNINSTRUMENTED).flat();
