import type { Instrumentation } from '../src/instrumentation/types';
import { fastifyInstrumentation } from './fastify';
import { fetchInstrumentation } from './fetch';
import { httpInstrumentation } from './http';
import { ioredisInstrumentation } from './ioredis';
import { redisInstrumentation } from './redis';
import { pgInstrumentation } from './pg';

/** The instrumentations the agent ships, in the order they are installed. */
export const INSTRUMENTATIONS: readonly Instrumentation[] = [
  httpInstrumentation,
  fetchInstrumentation,
  fastifyInstrumentation,
  redisInstrumentation,
  ioredisInstrumentation,
  pgInstrumentation,
];
