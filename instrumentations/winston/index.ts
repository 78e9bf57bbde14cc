import type { Instrumentation } from '../../src/instrumentation/types';

/** Trace ids in winston records (stub: the log-correlation work fills it in). */
export const winstonInstrumentation: Instrumentation = { name: 'winston', patches: [] };
