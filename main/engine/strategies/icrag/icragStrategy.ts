import { defineStrategy } from '../Strategy.ts';
import { ICRAG_METRICS, icragOptionsSchema, runIcrag } from './icrag.ts';

/** ICRAG as a registered strategy (see icrag.ts for the algorithm and the ablation options). */
export const icragStrategy = defineStrategy({
  id: 'icrag',
  label: 'ICRAG',
  description:
    'Codifies the task as a program, refines program and retrieval together (corpus passages and a memory of solved examples), then runs it with model-simulated helper calls.',
  options: icragOptionsSchema,
  metrics: ICRAG_METRICS,
  corpus: 'optional',
  run: runIcrag,
});
