import { useMemo } from 'react';
import { FlareSentencesView } from './FlareSentencesView.tsx';
import { IcragVersions } from './IcragVersions.tsx';
import { IrcotChainView } from './IrcotChainView.tsx';
import { IterRetgenRoundsView } from './IterRetgenRoundsView.tsx';
import { ProgramRoundsView } from './ProgramRoundsView.tsx';
import { SelfAskChainView } from './SelfAskChainView.tsx';
import { SimulatedCallsView } from './SimulatedCallsView.tsx';
import type { OpenStepDoc } from './StepDocs.tsx';
import { StrategySteps } from './StrategySteps.tsx';
import type { StrategyStep } from './runState.ts';
import { hasDedicatedView, stepDocs, type StepDoc } from './strategyTrace.ts';

/**
 * A run's own steps in the view suited to its strategy: Self-Ask's follow-up chain, IRCoT's
 * interleaved sentences and retrievals, ITER-RETGEN's rounds, FLARE's sentences and the retrievals
 * they triggered, Chain-of-Code's simulated lines, PROGRAM's per-round table, ICRAG's code versions
 * as diffs with its simulated calls. Any other strategy — or a run with none of its view's steps —
 * gets the generic step list. A passage any step lists opens through `onOpenDoc`.
 */
export function StrategyTrace(props: {
  strategy: string | null;
  steps: readonly StrategyStep[];
  startedAt: number | null;
  /** Passages the run knows by title from elsewhere (its citations), to title those a step lists by id only. */
  knownDocs?: readonly StepDoc[];
  /** The program the run executed last (Chain-of-Code, ICRAG), to mark its simulated lines. */
  program: string | null;
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element | null {
  const { strategy, steps, startedAt, program, knownDocs, onOpenDoc } = props;
  const known = useMemo(() => {
    const byId = stepDocs(steps);
    for (const doc of knownDocs ?? []) if (!byId.has(doc.id)) byId.set(doc.id, doc);
    return byId;
  }, [steps, knownDocs]);
  if (steps.length === 0) return null;
  const generic = <StrategySteps steps={steps} startedAt={startedAt} onOpenDoc={onOpenDoc} />;
  if (!hasDedicatedView(strategy, steps)) return generic;
  switch (strategy) {
    case 'self-ask':
      return <SelfAskChainView steps={steps} onOpenDoc={onOpenDoc} />;
    case 'ircot':
      return <IrcotChainView steps={steps} onOpenDoc={onOpenDoc} />;
    case 'iter-retgen':
      return <IterRetgenRoundsView steps={steps} onOpenDoc={onOpenDoc} />;
    case 'flare':
      return <FlareSentencesView steps={steps} known={known} onOpenDoc={onOpenDoc} />;
    case 'coc':
      return <SimulatedCallsView steps={steps} program={program} />;
    case 'program':
      return <ProgramRoundsView steps={steps} onOpenDoc={onOpenDoc} />;
    case 'icrag':
      // The versions and simulated calls, and the retrievals between versions in the step list.
      return (
        <>
          <IcragVersions steps={steps} />
          {steps.some((step) => step.kind === 'simulated-call') && (
            <SimulatedCallsView steps={steps} program={program} />
          )}
          {generic}
        </>
      );
    default:
      return generic;
  }
}
