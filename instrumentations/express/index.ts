/**
 * (in progress)
 */
import { readFrameworkSettings, type FrameworkSettings } from '../../src/instrumentation/framework';
import type { Instrumentation } from '../../src/instrumentation/types';

export const expressInstrumentation: Instrumentation<FrameworkSettings> = {
  name: 'express',
  readSettings: (env) => readFrameworkSettings(env, 'EXPRESS'),
  patches: [],
};
