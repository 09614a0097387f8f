/**
 * Run ids: `run-YYYYMMDD-HHMMSS-xxxx` in UTC, so that sorting ids as strings sorts runs by start
 * time (to the second) and an id tells a human when the run happened.
 */

/** Every run id starts with this. */
export const RUN_ID_PREFIX = 'run';
/** Characters of the random suffix that separates runs started in the same second. */
export const RUN_ID_SUFFIX_LENGTH = 4;
/** The suffix alphabet: lowercase base 36, safe in file names and URLs. */
export const RUN_ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
/** What newRunId produces; useful to validate ids that come back from the UI or the command line. */
export const RUN_ID_PATTERN = /^run-\d{8}-\d{6}-[0-9a-z]{4}$/;

/**
 * A new run id such as `run-20261121-171500-k3x9`: the UTC date and time from `now` (epoch ms;
 * default Date.now) and RUN_ID_SUFFIX_LENGTH (4) characters drawn with `random` (uniform in [0, 1);
 * default Math.random) from RUN_ID_ALPHABET, about 1.7 million possibilities per second. Both are
 * injectable so tests get the same id every time. Throws RangeError when `now` is not a valid time.
 */
export function newRunId(now: () => number = Date.now, random: () => number = Math.random): string {
  const time = new Date(now());
  if (Number.isNaN(time.getTime())) throw new RangeError('newRunId: the clock returned an invalid time.');
  const date = `${time.getUTCFullYear()}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}`;
  const clock = `${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}${pad(time.getUTCSeconds())}`;
  let suffix = '';
  for (let i = 0; i < RUN_ID_SUFFIX_LENGTH; i++) {
    // Clamp so that a source returning exactly 1 (or slightly out of range) still yields a character.
    const index = Math.min(
      RUN_ID_ALPHABET.length - 1,
      Math.max(0, Math.floor(random() * RUN_ID_ALPHABET.length)),
    );
    suffix += RUN_ID_ALPHABET[index];
  }
  return `${RUN_ID_PREFIX}-${date}-${clock}-${suffix}`;
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
