import type { StrategyStep } from './runState.ts';
import { versionDiff, type DiffLine } from './versionDiff.ts';

/** The step kind ICRAG records each program version under. */
export const ICRAG_VERSION_KIND = 'icrag-version';

interface VersionData {
  version: number;
  code: string;
  previousCode: string | null;
  query: string | null;
}

function versionOf(step: StrategyStep): VersionData | null {
  const data = step.data;
  if (!data || typeof data.code !== 'string' || typeof data.version !== 'number') return null;
  return {
    version: data.version,
    code: data.code,
    previousCode: typeof data.previousCode === 'string' ? data.previousCode : null,
    query: typeof data.query === 'string' ? data.query : null,
  };
}

const MARK: Record<DiffLine['kind'], string> = { same: ' ', added: '+', removed: '-' };

/**
 * ICRAG's program versions c0 → c1 → …: c0 in full, each later version as a line diff against the
 * one before (jsdiff), with the query the refiner asked for next. Shown beside the generic step list,
 * which keeps the retrievals between versions.
 */
export function IcragVersions(props: { steps: readonly StrategyStep[] }): React.JSX.Element | null {
  const versions = props.steps
    .filter((step) => step.kind === ICRAG_VERSION_KIND)
    .map(versionOf)
    .filter((version): version is VersionData => version !== null);
  if (versions.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="icrag-versions-heading" data-testid="icrag-versions">
      <header className="panel__header">
        <h3 id="icrag-versions-heading" className="panel__title">
          Program versions <span className="count">{versions.length}</span>
        </h3>
      </header>
      <ol className="icrag-versions">
        {versions.map((version) => {
          const lines =
            version.previousCode === null
              ? version.code.split('\n').map((text): DiffLine => ({ kind: 'same', text }))
              : versionDiff(version.previousCode, version.code);
          const changed = lines.some((line) => line.kind !== 'same');
          return (
            <li key={version.version} className="icrag-version" data-testid="icrag-version">
              <div className="strategy-step__head">
                <span className="badge">c{version.version}</span>
                <span className="strategy-step__title">
                  {version.version === 0
                    ? 'The task codified'
                    : changed
                      ? `Changes from c${version.version - 1}`
                      : `Unchanged from c${version.version - 1}`}
                </span>
              </div>
              <pre className="icrag-diff mono small" data-testid="icrag-diff">
                {lines.map((line, i) => (
                  <div
                    key={i}
                    className={`icrag-diff__line icrag-diff__line--${line.kind}`}
                    data-kind={line.kind}
                  >
                    {version.previousCode === null ? '' : `${MARK[line.kind]} `}
                    {line.text}
                  </div>
                ))}
              </pre>
              {version.query !== null && (
                <p className="strategy-step__detail" data-testid="icrag-next-query">
                  {version.query === ''
                    ? 'Next query: none — refinement stops.'
                    : `Next query: ${version.query}`}
                </p>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}
