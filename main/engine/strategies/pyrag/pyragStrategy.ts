import { defineStrategy } from '../Strategy.ts';
import { PYRAG_METRICS, pyragOptionsSchema, runPyrag } from './pyrag.ts';

/** PyRAG as a registered strategy (see pyrag.ts for the algorithm). */
export const pyragStrategy = defineStrategy({
  id: 'pyrag',
  label: 'PyRAG (program synthesis)',
  description:
    'Decomposes the question, has the model write a program over retrieve() and answer(), runs it in the sandbox, repairs failures and boosts retrieval after "unknown" answers.',
  options: pyragOptionsSchema,
  metrics: PYRAG_METRICS,
  corpus: 'optional',
  run: runPyrag,
});
