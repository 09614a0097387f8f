/**
 * One place that turns an untrusted value into a TraceEvent, so the recorder (at emit time) and the
 * run store (on write and on read) reject a malformed event with the same error.
 */
import type { z } from 'zod';
import { ReckonError } from '../errors.ts';
import type { TraceEvent } from '../../../preload/TraceEvent.ts';
import { traceEventSchema } from '../../../preload/TraceEvent.ts';

/** Issues beyond this many are summarised as "…and N more" in error messages. */
export const MAX_REPORTED_ISSUES = 5;

/**
 * Parses `value` with traceEventSchema and returns the parsed event (unknown keys stripped). A value
 * that does not match throws ReckonError 'INVALID_TRACE_EVENT' whose message lists the failing
 * fields (at most MAX_REPORTED_ISSUES, 5) and whose cause is the ZodError. An invalid event is
 * always a bug in the code that built it, never something a user did.
 */
export function parseTraceEvent(value: unknown): TraceEvent {
  const parsed = traceEventSchema.safeParse(value);
  if (parsed.success) {
    validated.add(parsed.data);
    return parsed.data;
  }
  const type = describeType(value);
  throw new ReckonError(
    'INVALID_TRACE_EVENT',
    `A ${type} trace event does not match its schema (${formatZodIssues(parsed.error)}). ` +
      `This is a bug in the code that emitted it; the event was not recorded.`,
    { cause: parsed.error },
  );
}

/**
 * Events that parseTraceEvent returned. Weak, so a recorded trace is freed with its run; an event
 * is an object the parser built, so nothing else can put one here.
 */
const validated = new WeakSet<object>();

/**
 * parseTraceEvent, except that an event parseTraceEvent itself returned is passed through as is:
 * the recorder validates each event where it is built and the store then writes it without a
 * second schema pass (issue 12: parsing every event twice was a large part of a question's overhead).
 * Anything else (an event from an import, a hand-built object) is parsed in full.
 */
export function parseTraceEventOnce(value: unknown): TraceEvent {
  return typeof value === 'object' && value !== null && validated.has(value)
    ? (value as TraceEvent)
    : parseTraceEvent(value);
}

/**
 * Formats a ZodError as "path: message; path: message", listing at most MAX_REPORTED_ISSUES (5)
 * issues. Used for every schema failure of this module's callers.
 */
export function formatZodIssues(error: z.ZodError): string {
  const shown = error.issues
    .slice(0, MAX_REPORTED_ISSUES)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
  const hidden = error.issues.length - shown.length;
  return hidden > 0 ? `${shown.join('; ')}; …and ${hidden} more` : shown.join('; ');
}

function describeType(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'type' in value && typeof value.type === 'string') {
    return `"${value.type.slice(0, 40)}"`;
  }
  return 'untyped';
}
