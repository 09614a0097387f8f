import { formatMs } from '../format.ts';
import type { StrategyStep } from './runState.ts';
import { StepDocs, type OpenStepDoc } from './StepDocs.tsx';
import { docsOf } from './strategyTrace.ts';

/** Characters of a step's data shown at most when expanded. Default 20 000. */
export const MAX_STEP_DATA_CHARS = 20_000;

/**
 * The generic view of a strategy's own steps (`step` events: a Self-Ask follow-up, an IRCoT
 * sentence, …), for strategies without a dedicated trace view: each step's kind, title and detail,
 * its structured data expandable, and the passages it lists (data.docs) as buttons that open them.
 */
export function StrategySteps(props: {
  steps: readonly StrategyStep[];
  startedAt: number | null;
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element {
  const { steps, startedAt, onOpenDoc } = props;
  return (
    <section className="panel" aria-labelledby="strategy-steps-heading">
      <header className="panel__header">
        <h3 id="strategy-steps-heading" className="panel__title">
          Strategy steps <span className="count">{steps.length}</span>
        </h3>
      </header>
      <ol className="strategy-steps" data-testid="strategy-steps">
        {steps.map((step, i) => (
          <li key={step.seq} className="strategy-step" data-testid="strategy-step" data-kind={step.kind}>
            <div className="strategy-step__head">
              <span className="strategy-step__index">{i + 1}</span>
              <span className="badge">{step.kind}</span>
              <span className="strategy-step__title" data-testid="strategy-step-title">
                {step.title}
              </span>
              <span className="step__time mono">
                {startedAt !== null ? `+${formatMs(step.at - startedAt)}` : ''}
              </span>
            </div>
            {step.detail !== null && (
              <p className="strategy-step__detail pre-wrap" data-testid="strategy-step-detail">
                {step.detail}
              </p>
            )}
            {docsOf(step.data).length > 0 && <StepDocs docs={docsOf(step.data)} onOpen={onOpenDoc} />}
            {step.data !== null && Object.keys(step.data).length > 0 && (
              <details className="strategy-step__data">
                <summary>Data</summary>
                <pre className="pre-wrap mono small" data-testid="strategy-step-data">
                  {dataText(step.data)}
                </pre>
              </details>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}

function dataText(data: Record<string, unknown>): string {
  let text: string;
  try {
    text = JSON.stringify(data, null, 2);
  } catch {
    text = '(this data cannot be shown)';
  }
  return text.length > MAX_STEP_DATA_CHARS ? `${text.slice(0, MAX_STEP_DATA_CHARS)}\n…` : text;
}
