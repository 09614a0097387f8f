/**
 * The one shape every evaluation dataset is loaded into. What a method may see (`input`) and what
 * only the scorer may see (`gold`) are kept in separate objects, so a runner that hands a method
 * `item.input` and nothing else cannot leak an answer: loaders never copy a gold field (HotpotQA's
 * `answer`, PubMedQA's `final_decision` and `LONG_ANSWER`, StrategyQA's `facts` and `decomposition`,
 * BBH's `target`) into `input`.
 */

/** Which dataset (and so which official scoring rule) an item comes from. */
export type EvalDatasetKind =
  | 'hotpotqa'
  | '2wikimultihopqa'
  | 'musique'
  | 'bamboogle'
  | 'flashrag'
  | 'gsm8k'
  | 'bbh'
  | 'pubmedqa'
  | 'strategyqa'
  | 'custom';

/** The file formats `loadEvalDataset` reads; `--format` takes these names. */
export const EVAL_DATASET_FORMATS = [
  'hotpotqa',
  '2wikimultihopqa',
  'musique',
  'bamboogle-csv',
  'bamboogle-json',
  'flashrag',
  'gsm8k',
  'bbh',
  'pubmedqa',
  'strategyqa',
  'custom-csv',
  'custom-jsonl',
] as const;
export type EvalDatasetFormat = (typeof EVAL_DATASET_FORMATS)[number];

/** One context paragraph: a document of the evaluation corpus. */
export interface EvalParagraph {
  title: string;
  /** The paragraph's text (HotpotQA/2Wiki sentences joined as the corpus loader joins them). */
  text: string;
  /** The sentences as the dataset splits them, where it does: supporting facts index into these (0-based). */
  sentences?: string[];
}

/** One answer choice of a multiple-choice question; `label` is what is scored ("A", "(B)", …). */
export interface EvalOption {
  label: string;
  text: string;
}

/** A supporting fact: a paragraph title and the 0-based index of a sentence in it. */
export type SupportingFact = readonly [title: string, sentenceId: number];

/** One gold sub-question of a decomposition, with its gold answers where the dataset gives them. */
export interface GoldStep {
  question: string;
  answers: string[];
}

/** What a method may be shown. */
export interface EvalInput {
  /** The question as the method should see it (BBH: the task input, options included). */
  question: string;
  /** Context paragraphs that become the corpus (HotpotQA, 2Wiki, MuSiQue, PubMedQA); absent when the dataset has none. */
  paragraphs?: EvalParagraph[];
  /** Answer choices, for multiple-choice items. */
  options?: EvalOption[];
}

/** What only the scorer (and an oracle mode, deliberately) may see. */
export interface EvalGold {
  /**
   * Gold answers: the dataset's answer first, then its aliases / alternatives / other golden answers.
   * GSM8K: the number after `####`; BBH: the target; PubMedQA: yes/no/maybe; StrategyQA: "yes"/"no";
   * multiple choice: the correct option's label.
   */
  answers: string[];
  /** HotpotQA / 2Wiki supporting facts. */
  supportingFacts?: SupportingFact[];
  /** Titles of the paragraphs that support the answer, distinct, for supporting-paragraph recall. */
  supportingTitles?: string[];
  /** Gold decomposition (MuSiQue, Bamboogle, StrategyQA), for an oracle mode. */
  decomposition?: GoldStep[];
  /** Full gold solution text where the dataset has one (GSM8K's worked answer, PubMedQA's LONG_ANSWER). */
  rationale?: string;
}

/** One question of an evaluation dataset. */
export interface EvalItem {
  /** Unique within the dataset; the key of a predictions file. */
  id: string;
  dataset: EvalDatasetKind;
  /** A sub-category where the dataset has one: HotpotQA/2Wiki `type`, MuSiQue hop shape, BBH task. */
  category?: string;
  input: EvalInput;
  gold: EvalGold;
}

/** A loaded dataset: its items (after --limit/--seed) and what a runner needs to run and score them. */
export interface EvalDataset {
  kind: EvalDatasetKind;
  format: EvalDatasetFormat;
  /** The file it was read from. */
  path: string;
  /** A short display name ("hotpotqa", "bbh/web_of_lies", the file's base name for custom files). */
  name: string;
  items: EvalItem[];
  /** How many questions the file holds before sampling. */
  total: number;
  /** Whether items carry `input.paragraphs` that should become the corpus. */
  hasContexts: boolean;
  /**
   * A few-shot prompt the dataset ships for its task (BBH's cot-prompts/<task>.txt, canary lines
   * stripped), to put before `input.question`. Absent where there is none.
   */
  fewShotPrompt?: string;
  /** Things the loader decided that a user should know (e.g. "official 500 test PMIDs"). */
  notes: string[];
}
