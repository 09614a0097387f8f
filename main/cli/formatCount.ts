/**
 * "1 file", "2 files", "0 files": a count with its noun in the right number. The plural is the
 * singular plus "s" unless given (`formatCount(n, 'retry', 'retries')`).
 */
export function formatCount(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
