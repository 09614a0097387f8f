/** Exit codes of the `reckon` command; scripts may rely on them. */
export const ExitCode = {
  OK: 0,
  /** The command failed; the message says why. */
  ERROR: 1,
  /** The command line was wrong (unknown option, missing argument). */
  USAGE: 2,
  /** The work finished but some inputs failed (e.g. files that could not be ingested). */
  PARTIAL: 3,
  /** Interrupted (Ctrl-C). */
  CANCELLED: 130,
} as const;
