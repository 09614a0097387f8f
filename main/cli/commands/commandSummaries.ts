/**
 * The top-level commands, their arguments and one-line descriptions: what `reckon --help` lists. A
 * light module on purpose: main.ts loads a command's own module (and through it the engine) only
 * when that command runs or its help is asked for, so `reckon --help` and `reckon --version` start
 * as fast as Node itself allows. Each command module takes its description from here.
 */
export interface CommandSummary {
  /** Arguments as commander writes them after the name ("<question>"). */
  args: string;
  description: string;
}

export const COMMAND_SUMMARIES = {
  ingest: {
    args: '<paths...>',
    description:
      'Add files and folders to a corpus (unchanged files are skipped, changed ones replaced, deleted ones removed).',
  },
  search: { args: '<query>', description: 'Search a corpus.' },
  corpora: { args: '', description: 'List or remove corpora.' },
  models: { args: '', description: 'List, download and locate models.' },
  ask: {
    args: '<question>',
    description:
      'Answer a question with a method of your choice (default PyRAG: the model writes a program over retrieve() and answer(), run in the sandbox).',
  },
  'run-program': {
    args: '<file>',
    description:
      'Run a program you wrote in the sandbox (retrieve() works without a model; answer() needs --model).',
  },
  strategies: {
    args: '',
    description: "List the methods reckon ask can use, with each one's options and defaults.",
  },
  analyze: {
    args: '<file>',
    description:
      'Program metrics without running it: cyclomatic complexity, AST node profile, lines, tool-call sites.',
  },
  runs: { args: '', description: 'Saved runs: list, show, export (JSON or a replay file).' },
  serve: {
    args: '',
    description:
      'Open the Reckon interface in your browser: serves the built UI on 127.0.0.1 with a one-time token (build it first with "npm run build").',
  },
  memory: {
    args: '',
    description:
      "Memories of solved examples (ICRAG's R2): build one from (task, answer) pairs, list, remove.",
  },
  eval: {
    args: '',
    description: 'Evaluate methods on QA and reasoning datasets, scored by each dataset’s official rules.',
  },
} as const satisfies Record<string, CommandSummary>;

export type CommandName = keyof typeof COMMAND_SUMMARIES;
