import type { Instrumentation } from '../src/instrumentation/types';
import { expressInstrumentation } from './express';
import { fastifyInstrumentation } from './fastify';
import { fetchInstrumentation } from './fetch';
import { httpInstrumentation } from './http';
import { ioredisInstrumentation } from './ioredis';
import { koaInstrumentation } from './koa';
import { mysql2Instrumentation } from './mysql2';
import { nestjsInstrumentation } from './nestjs';
import { pinoInstrumentation } from './pino';
import { redisInstrumentation } from './redis';
import { pgInstrumentation } from './pg';
import { winstonInstrumentation } from './winston';

/** The instrumentations the agent ships, in the order they are installed. */
export const INSTRUMENTATIONS: readonly Instrumentation[] = [
  httpInstrumentation,
  fetchInstrumentation,
  fastifyInstrumentation,
  expressInstrumentation,
  koaInstrumentation,
  nestjsInstrumentation,
  redisInstrumentation,
  ioredisInstrumentation,
  pgInstrumentation,
  mysql2Instrumentation,
  pinoInstrumentation,
  winstonInstrumentation,
];
