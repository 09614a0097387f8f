import type { ReactNode } from 'react';

/** A first-run / empty-state panel: what is missing and exactly what to do, with the action. */
export function Callout(props: { title: string; children: ReactNode; testId?: string }): React.JSX.Element {
  return (
    <section
      className="callout"
      aria-label={props.title}
      {...(props.testId ? { 'data-testid': props.testId } : {})}
    >
      <h2 className="callout__title">{props.title}</h2>
      <div className="callout__body">{props.children}</div>
    </section>
  );
}
