import { defineStrategy } from '../Strategy.ts';
import { FLARE_METRICS, flareOptionsSchema, runFlare } from './flare.ts';

/** FLARE as a registered strategy (see flare.ts for the algorithm). */
export const flareStrategy = defineStrategy({
  id: 'flare',
  label: 'FLARE (active retrieval)',
  description:
    'Writes the answer a sentence at a time; a look-ahead sentence with a token below probability θ triggers a retrieval with that sentence (low-confidence tokens masked) and is regenerated over the new documents.',
  options: flareOptionsSchema,
  metrics: FLARE_METRICS,
  corpus: 'required',
  run: runFlare,
});
