/** Number, size and time formatting shared by the views. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return integer.format(value);
}

/** 1536 → "1.5 KB" (powers of 1024, like file managers). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit] ?? 'B'}`;
}

/** Milliseconds as "12 ms", "1.24 s" or "2 min 5 s". */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return formatSeconds(ms / 1000);
}

/** Seconds as "42 s", "3 min 5 s", "1 h 2 min"; null → "–". */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function formatDateTime(epochMs: number): string {
  const date = new Date(epochMs);
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function percent(done: number, total: number): number {
  if (total <= 0) return 0;
  return Math.max(0, Math.min(100, (done / total) * 100));
}

/** Collapses whitespace and caps the length with an ellipsis. */
export function inline(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** A tool call's arguments as source-like text, trailing null/undefined dropped: retrieve("x"). */
export function formatArgs(args: readonly unknown[]): string {
  const list = [...args];
  while (list.length > 0 && (list.at(-1) === undefined || list.at(-1) === null)) list.pop();
  return list.map((arg) => inline(JSON.stringify(arg) ?? 'undefined', 200)).join(', ');
}

/** The folder holding `path` (works for / and \ separators). */
export function parentDir(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const index = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  if (index <= 0) return trimmed.slice(0, index + 1) || trimmed;
  return trimmed.slice(0, index);
}

/** Joins path segments with the separator `base` already uses. */
export function joinPath(base: string, ...parts: string[]): string {
  const separator = base.includes('\\') && !base.includes('/') ? '\\' : '/';
  return [base.replace(/[\\/]+$/, ''), ...parts].join(separator);
}

/** The last `segments` parts of a path ("…/corpora/file.json"), for narrow columns; the full path goes in a title. */
export function shortPath(path: string, segments = 2): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  if (parts.length <= segments) return path;
  return `…/${parts.slice(-segments).join('/')}`;
}
