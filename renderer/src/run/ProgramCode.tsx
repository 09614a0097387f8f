import { Fragment, useEffect, useMemo, useRef } from 'react';
import { inline } from '../format.ts';
import { highlightJs } from './highlightJs.ts';
import type { ExecutionEntry, ProgramAttempt } from './runState.ts';

/**
 * One program with line numbers and highlighting. Marks: the line being executed (the most recent
 * tool call's), the syntax error (message and caret inline under its line), the runtime error's
 * line, and — like a debugger — each binding's value at the end of the line that made it.
 */
export function ProgramCode(props: {
  program: ProgramAttempt;
  /** The execution whose bindings, tool calls and error are shown on the code. */
  execution: ExecutionEntry | null;
  executing: { line: number; inFlight: boolean } | null;
  focusLine: number | null;
}): React.JSX.Element {
  const { program, execution, executing, focusLine } = props;
  const lines = useMemo(() => highlightJs(program.code), [program.code]);
  const focusRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    focusRef.current?.scrollIntoView({ block: 'nearest' });
  }, [focusLine, executing?.line]);

  const bindingsByLine = useMemo(() => {
    const map = new Map<number, { name: string; preview: string }[]>();
    for (const binding of execution?.bindings ?? []) {
      const list = map.get(binding.line) ?? [];
      // A loop rebinds a name: keep its latest value.
      const existing = list.findIndex((b) => b.name === binding.name);
      if (existing >= 0) list.splice(existing, 1);
      list.push({ name: binding.name, preview: binding.preview });
      map.set(binding.line, list);
    }
    return map;
  }, [execution]);

  const callLines = useMemo(() => {
    const set = new Set<number>();
    for (const call of execution?.toolCalls ?? []) if (call.line !== null) set.add(call.line);
    return set;
  }, [execution]);

  const syntax = program.syntaxError;
  const runtime = execution?.runtimeError ?? null;
  const width = String(lines.length).length;

  return (
    <div
      className="code"
      data-testid="program-view"
      role="group"
      aria-label={`Program, attempt ${program.attempt} (${program.purpose})`}
    >
      {lines.map((tokens, index) => {
        const n = index + 1;
        const isExecuting = executing?.line === n;
        const isSyntaxError = syntax?.line === n;
        const isRuntimeError = runtime?.line === n;
        const classes = ['code__line'];
        if (isExecuting) classes.push(executing.inFlight ? 'is-executing' : 'is-last-call');
        if (isSyntaxError || isRuntimeError) classes.push('is-error');
        if (focusLine === n) classes.push('is-focus');
        if (callLines.has(n)) classes.push('has-call');
        const values = bindingsByLine.get(n);
        return (
          <Fragment key={n}>
            <div
              className={classes.join(' ')}
              data-testid={`program-line-${n}`}
              data-line={n}
              {...(isExecuting ? { 'data-executing': executing.inFlight ? 'true' : 'last' } : {})}
              ref={focusLine === n || (focusLine === null && isExecuting) ? focusRef : undefined}
            >
              <span className="code__ln" aria-hidden="true">
                {String(n).padStart(width)}
              </span>
              <span className="code__gutter" aria-hidden="true">
                {isExecuting ? (executing.inFlight ? '▶' : '●') : isSyntaxError || isRuntimeError ? '✗' : ''}
              </span>
              <code className="code__text">
                {tokens.length === 0
                  ? ' '
                  : tokens.map((t, i) => (
                      <span key={i} className={`tok tok--${t.kind}`}>
                        {t.text}
                      </span>
                    ))}
              </code>
              {isExecuting && (
                <span className={`code__badge ${executing.inFlight ? 'code__badge--live' : ''}`}>
                  {executing.inFlight ? 'executing' : 'last call'}
                </span>
              )}
              {values && (
                <span
                  className="code__values"
                  title={values.map((v) => `${v.name} = ${v.preview}`).join('\n')}
                >
                  {values.map((v) => `${v.name} = ${inline(v.preview, 60)}`).join('  ·  ')}
                </span>
              )}
            </div>
            {isSyntaxError && syntax && (
              <div className="code__annotation code__annotation--error" role="note">
                <span className="code__ln" aria-hidden="true">
                  {' '.repeat(width)}
                </span>
                <span className="code__gutter" aria-hidden="true" />
                <span>
                  {syntax.column !== null && (
                    <span className="code__caret" aria-hidden="true">
                      {' '.repeat(Math.max(0, syntax.column - 1))}^{' '}
                    </span>
                  )}
                  SyntaxError{syntax.column !== null ? ` (column ${syntax.column})` : ''}: {syntax.message}
                </span>
              </div>
            )}
            {isRuntimeError && runtime && (
              <div className="code__annotation code__annotation--error" role="note">
                <span className="code__ln" aria-hidden="true">
                  {' '.repeat(width)}
                </span>
                <span className="code__gutter" aria-hidden="true" />
                <span>
                  {runtime.kind}
                  {runtime.errorName ? ` (${runtime.errorName})` : ''}: {runtime.message}
                </span>
              </div>
            )}
          </Fragment>
        );
      })}
      {syntax && syntax.line === null && (
        <div className="code__annotation code__annotation--error" role="note">
          SyntaxError: {syntax.message}
        </div>
      )}
      {runtime && runtime.line === null && (
        <div className="code__annotation code__annotation--error" role="note">
          {runtime.kind}
          {runtime.errorName ? ` (${runtime.errorName})` : ''}: {runtime.message}
        </div>
      )}
    </div>
  );
}
