import type { Instrumentation } from '../../src/instrumentation/types';

/** mysql2 (stub). */
export const mysql2Instrumentation: Instrumentation = { name: 'mysql2', patches: [] };
