import type { IngestProgressEvent } from '../engine/corpus/ingestPaths.ts';
import { formatCount } from './formatCount.ts';

/** Width of the bar in characters. */
const BAR_WIDTH = 28;
/** On a non-terminal, a progress line is printed at most this often. */
const PLAIN_INTERVAL_MS = 2000;

/**
 * Draws ingestion progress on stderr: a redrawn bar on a terminal, an occasional plain line
 * elsewhere (CI logs), nothing when quiet. stdout stays clean for --json output.
 */
export class ProgressBar {
  private lastPlain = 0;
  private lastPhase = '';
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quiet = false,
  ) {}

  update(event: IngestProgressEvent): void {
    if (this.quiet) return;
    const line = describe(event);
    if (this.stream.isTTY) {
      const columns = this.stream.columns || 100;
      this.stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (
      event.phase !== this.lastPhase ||
      now - this.lastPlain >= PLAIN_INTERVAL_MS ||
      event.phase === 'done'
    ) {
      this.stream.write(`${line}\n`);
      this.lastPlain = now;
      this.lastPhase = event.phase;
    }
  }

  finish(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

function describe(event: IngestProgressEvent): string {
  const eta = event.etaSeconds === undefined ? '' : ` ETA ${formatSeconds(event.etaSeconds)}`;
  switch (event.phase) {
    case 'scan':
      return 'Scanning…';
    case 'parse': {
      const fraction =
        event.bytesTotal > 0
          ? event.bytesDone / event.bytesTotal
          : event.filesTotal > 0
            ? event.filesDone / event.filesTotal
            : 1;
      return `Parsing ${bar(fraction)} ${event.filesDone}/${formatCount(event.filesTotal, 'file')}, ${formatBytes(event.bytesDone)}/${formatBytes(event.bytesTotal)}, ${formatCount(event.chunksWritten, 'chunk')}${event.failed ? `, ${event.failed} failed` : ''}${eta}`;
    }
    case 'embed': {
      const fraction = event.chunksToEmbed > 0 ? event.chunksEmbedded / event.chunksToEmbed : 1;
      return `Embedding ${bar(fraction)} ${event.chunksEmbedded}/${formatCount(event.chunksToEmbed, 'chunk')}${eta}`;
    }
    case 'index':
      return 'Building the vector index…';
    case 'done':
      return `Done: ${event.filesDone}/${formatCount(event.filesTotal, 'file')}, ${formatCount(event.chunksWritten, 'chunk')} written${event.failed ? `, ${event.failed} failed` : ''}.`;
  }
}

function bar(fraction: number): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${Math.floor(clamped * 100)}%`.padEnd(
    BAR_WIDTH + 7,
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
