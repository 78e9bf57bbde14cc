/**
 * (in progress)
 */
import { readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import type { Instrumentation } from '../../src/instrumentation/types';

export const koaInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'koa',
  readSettings: (env) => readFrameworkSettings(env, 'KOA'),
  patches: [],
};
