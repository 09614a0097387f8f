import { defineStrategy } from '../Strategy.ts';
import { COC_METRICS, cocOptionsSchema, runCoc } from './coc.ts';

/** Chain-of-Code as a registered strategy (see coc.ts for the algorithm). */
export const cocStrategy = defineStrategy({
  id: 'coc',
  label: 'Chain-of-Code',
  description:
    'The model writes a program for the task; calls of helper functions it does not define are simulated by the model while the program runs. No retrieval.',
  options: cocOptionsSchema,
  metrics: COC_METRICS,
  corpus: 'none',
  run: runCoc,
});
