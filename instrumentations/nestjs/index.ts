/**
 * (in progress)
 */
import { readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import type { Instrumentation } from '../../src/instrumentation/types';

export const nestjsInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'nestjs',
  readSettings: (env) => readFrameworkSettings(env, 'NESTJS'),
  patches: [],
};
