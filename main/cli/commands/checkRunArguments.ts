import fs from 'node:fs';
import path from 'node:path';
import { ModelNotFoundError, ReckonError } from '../../engine/errors.ts';
import { parseModelSpec, resolveGgufPath } from '../../engine/models/createLlmBackend.ts';

export interface RunArguments {
  /** The question of `reckon ask`; absent for `reckon run-program`. */
  question?: string;
  /** The --model value, or null when none was given. */
  model: string | null;
}

/**
 * Checks the values of `reckon ask` / `reckon run-program` before a run is started or recorded, so a
 * mistake on the command line is a usage error (exit 2) rather than a failed run in History: the
 * question is not empty or blank (EMPTY_QUESTION), the model spec parses (BAD_MODEL_SPEC), and a GGUF
 * or replay file it names exists (MODEL_NOT_FOUND; a GGUF is looked for as resolveGgufPath does, in
 * `modelsDir` too). A model server is not contacted here.
 */
export function checkRunArguments(args: RunArguments, modelsDir: string): void {
  if (args.question !== undefined && args.question.trim() === '') {
    throw new ReckonError(
      'EMPTY_QUESTION',
      'The question is empty. Put it in quotes after "ask": reckon ask "<question>" --corpus <name> --model <spec>',
    );
  }
  if (args.model === null) return;
  const spec = parseModelSpec(args.model);
  if (spec.kind === 'llama') resolveGgufPath(spec.path, { modelsDir });
  if (spec.kind === 'replay') {
    const file = path.resolve(spec.file);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
      throw new ModelNotFoundError(
        `No replay file at ${file}. Check the path; "reckon runs export <id> --replay <file>" writes one from a saved run.`,
      );
    }
  }
}
