/**
 * PROGRAM's library of program types: the reasoning patterns a question can call for. Each type
 * becomes one candidate "program" whose sub-query retrieves its own evidence. The names are the
 * paper's; the one-line descriptions are Reckon's, shown to the model when it picks types and used as
 * the type-alone retrieval query of the information-gain estimate.
 */

export interface ProgramType {
  name: string;
  /** What the type asks for, in one line (prompt text and the type-alone query). */
  description: string;
  /**
   * Basic: the paper's basic set. Advanced-general / advanced-domain: the paper's advanced set, split
   * (see PROGRAM_TYPE_SETS). Given: not in the library, the type of a given sub-question.
   */
  tier: 'basic' | 'advanced-general' | 'advanced-domain' | 'given';
}

export const PROGRAM_TYPES: readonly ProgramType[] = [
  { name: 'Simple Fact', tier: 'basic', description: 'look up one fact about one entity' },
  { name: 'ArgMax', tier: 'basic', description: 'find the item with the largest value of an attribute' },
  { name: 'ArgMin', tier: 'basic', description: 'find the item with the smallest value of an attribute' },
  { name: 'Logical AND', tier: 'basic', description: 'check that two or more conditions all hold' },
  {
    name: 'Logical OR',
    tier: 'basic',
    description: 'check whether at least one of several conditions holds',
  },
  { name: 'Causal', tier: 'basic', description: 'find what caused an event or what an event caused' },
  { name: 'Comparison', tier: 'basic', description: 'compare two or more entities on a shared attribute' },
  { name: 'Temporal', tier: 'basic', description: 'reason about dates, order of events or durations' },
  { name: 'Count', tier: 'basic', description: 'count the items that satisfy a condition' },
  { name: 'Filter', tier: 'basic', description: 'select the items that satisfy a condition' },
  {
    name: 'Multi-hop',
    tier: 'advanced-general',
    description: 'chain facts where one answer is needed to ask the next question',
  },
  {
    name: 'Entity Linking',
    tier: 'advanced-general',
    description: 'identify which real-world entity a name or description refers to',
  },
  {
    name: 'Relation Extraction',
    tier: 'advanced-general',
    description: 'find the relation that holds between two entities',
  },
  {
    name: 'Bridge Entity',
    tier: 'advanced-general',
    description: 'find the intermediate entity that connects the question to its answer',
  },
  {
    name: 'Multi-Task',
    tier: 'advanced-general',
    description: 'answer several sub-questions and combine their answers',
  },
  {
    name: 'Causal Chain',
    tier: 'advanced-general',
    description: 'follow a chain of causes and effects over several steps',
  },
  {
    name: 'Scientific Reasoning',
    tier: 'advanced-general',
    description: 'apply a scientific principle, mechanism or measurement',
  },
  {
    name: 'Knowledge Integration',
    tier: 'advanced-general',
    description: 'combine facts from several sources into one answer',
  },
  {
    name: 'Analogical Reasoning',
    tier: 'advanced-general',
    description: 'answer by analogy with a similar known case',
  },
  {
    name: 'Hypothesis Testing',
    tier: 'advanced-general',
    description: 'check whether the evidence supports or refutes a claim',
  },
  {
    name: 'Diagnosis',
    tier: 'advanced-domain',
    description: 'identify the condition that explains a set of findings',
  },
  {
    name: 'Symptom Analysis',
    tier: 'advanced-domain',
    description: 'relate symptoms to the conditions that produce them',
  },
  {
    name: 'Treatment Reasoning',
    tier: 'advanced-domain',
    description: 'find which treatment applies to a condition and why',
  },
  {
    name: 'Medical Condition',
    tier: 'advanced-domain',
    description: 'describe a medical condition: causes, course, outcomes',
  },
  {
    name: 'Domain-Specific',
    tier: 'advanced-domain',
    description: 'apply the rules or terminology of a specialist field',
  },
];

/**
 * The type of a program made from a given sub-question (the `givenSubQuestions` option): not one the
 * model can pick. None of the library's types fits every given step (a gold decomposition mixes
 * look-ups, comparisons and yes/no checks), so it is its own, and the sufficiency prompt shows it.
 */
export const GIVEN_SUB_QUESTION_TYPE: ProgramType = {
  name: 'Given sub-question',
  tier: 'given',
  description: 'answer one step of a decomposition given with the question',
};

/**
 * Which types the model may pick:
 * - `basic`: the paper's ten basic types.
 * - `basic+advanced`: basic plus the ten general advanced types (Multi-hop, Entity Linking, Relation
 *   Extraction, Bridge Entity, Multi-Task, Causal Chain, Scientific Reasoning, Knowledge Integration,
 *   Analogical Reasoning, Hypothesis Testing) — every type that applies to open-domain questions.
 * - `all`: all 25, adding the domain-specific advanced types the paper lists for biomedical QA
 *   (Diagnosis, Symptom Analysis, Treatment Reasoning, Medical Condition, Domain-Specific).
 */
export const PROGRAM_TYPE_SETS = ['basic', 'basic+advanced', 'all'] as const;
export type ProgramTypeSet = (typeof PROGRAM_TYPE_SETS)[number];

/** The types of a set, in library order. */
export function programTypesOf(set: ProgramTypeSet): ProgramType[] {
  return PROGRAM_TYPES.filter(
    (type) =>
      type.tier === 'basic' ||
      (set !== 'basic' && type.tier === 'advanced-general') ||
      (set === 'all' && type.tier === 'advanced-domain'),
  );
}
