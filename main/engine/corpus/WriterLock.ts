import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { WriterLockedError } from '../errors.ts';

interface LockOwner {
  pid: number;
  host: string;
  startedAt: number;
  /** Random per lock file: tells this lock apart from any other one ever written at the same path. */
  nonce: string;
}

/** Attempts to take a lock whose stale holder others are removing at the same moment. */
export const WRITER_LOCK_ATTEMPTS = 20;
/** Stale break files (`<lock>.break-<nonce>`) that may be broken in turn, when a breaker died. */
const MAX_BREAK_DEPTH = 3;

/** Locks this process holds, by path: a second writer inside the same process is refused too. */
const heldLocks = new Set<string>();

/**
 * An exclusive lock file that marks one process as the writer of a corpus. A lock left behind by a
 * process that no longer exists (killed with SIGKILL, power loss) is taken over, so a crash never
 * needs manual clean-up; a live owner makes the second writer fail with a clear message.
 *
 * Why it is race-free: the lock file appears atomically with its whole content (written to a temp
 * file, then hard-linked into place, which fails if the lock exists — or an O_EXCL create where links
 * are not supported), and every lock carries a random nonce. A stale lock is removed only by the one
 * process that creates `<lock>.break-<nonce>` (O_EXCL) for that lock's nonce, and only after reading
 * the lock again under it and finding the same nonce. While a lock exists nobody can create another,
 * and only the holder of its break file can remove it, so a breaker can never delete a fresh lock
 * that another process has just taken; two processes racing over one stale lock get exactly one
 * winner. A break file left by a breaker that died is itself broken the same way.
 */
export class WriterLock {
  private released = false;

  private constructor(
    private readonly lockPath: string,
    private readonly nonce: string,
  ) {}

  /**
   * Takes the lock or throws WriterLockedError naming the process that holds it. Retries up to
   * WRITER_LOCK_ATTEMPTS (20) times while stale locks are being broken concurrently.
   */
  static acquire(lockPath: string, what: string): WriterLock {
    if (heldLocks.has(lockPath)) {
      throw new WriterLockedError(
        `${what} is already being written by this process. Wait for that work to finish.`,
      );
    }
    for (let attempt = 0; attempt < WRITER_LOCK_ATTEMPTS; attempt++) {
      const owner = newOwner();
      if (createExclusive(lockPath, JSON.stringify(owner))) {
        heldLocks.add(lockPath);
        return new WriterLock(lockPath, owner.nonce);
      }
      const existing = readLock(lockPath);
      if (existing === undefined) continue; // released meanwhile: try again
      if (existing.owner && !isStale(existing.owner)) {
        throw new WriterLockedError(
          `${what} is being written by another Reckon process (pid ${existing.owner.pid}, since ${new Date(existing.owner.startedAt).toISOString()}). Wait for it to finish, or stop it and run the command again.`,
        );
      }
      // Stale (owner gone) or unreadable (damaged): remove exactly that lock, then try again. When
      // another process is breaking it, give that process a moment to finish.
      if (!breakStale(lockPath, existing.identity, 0)) sleepSync(1 + Math.random() * 10);
    }
    throw new WriterLockedError(
      `Could not take the writer lock ${lockPath}; other processes keep taking it over. Stop the other Reckon processes and run the command again.`,
    );
  }

  /** Removes the lock file if it is still this lock's (never another process's). Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldLocks.delete(this.lockPath);
    if (readLock(this.lockPath)?.owner?.nonce === this.nonce) fs.rmSync(this.lockPath, { force: true });
  }
}

function newOwner(): LockOwner {
  return {
    pid: process.pid,
    host: os.hostname(),
    startedAt: Date.now(),
    nonce: randomBytes(12).toString('hex'),
  };
}

/** Stale: its process is gone. Our own pid in a lock we do not hold is a leftover from an earlier process. */
function isStale(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  return owner.pid === process.pid || !isAlive(owner.pid);
}

/**
 * Creates `file` with `content` only if it does not exist, so that it never appears partly written:
 * a temp file is written and fsync'ed, then hard-linked into place (link fails with EEXIST when the
 * file exists). Falls back to an O_EXCL create on file systems without hard links. True when created.
 */
function createExclusive(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(temp, 'wx');
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    try {
      fs.linkSync(temp, file);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
    }
    try {
      fs.writeFileSync(file, content, { flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** A lock file's identity (its exact content) and owner when it parses; undefined when absent. */
function readLock(file: string): { identity: string; owner: LockOwner | undefined } | undefined {
  let content: string;
  try {
    content = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(content) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      const owner = {
        pid: parsed.pid,
        host: parsed.host,
        startedAt: Number(parsed.startedAt) || 0,
        // Locks written by an older Reckon have no nonce; they are told apart by their content.
        nonce: typeof parsed.nonce === 'string' ? parsed.nonce : '',
      };
      return { identity: content, owner };
    }
  } catch {
    // damaged: identified by its content alone
  }
  return { identity: content, owner: undefined };
}

/**
 * Removes `file` if, and only if, its content is still `identity`, racing safely with other
 * breakers: only the process that creates the break file for this identity may remove it, after
 * re-reading it. When someone else holds the break file, returns false (the caller waits and
 * retries), and when that breaker is gone its break file is broken the same way first (up to
 * MAX_BREAK_DEPTH). True when this process did the break (or found the lock already replaced).
 */
function breakStale(file: string, identity: string, depth: number): boolean {
  const tag = identityTag(identity);
  const breakFile = `${file}.break-${tag}`;
  const breaker = newOwner();
  if (!createExclusive(breakFile, JSON.stringify(breaker))) {
    const other = readLock(breakFile);
    if (other && (!other.owner || isStale(other.owner)) && depth < MAX_BREAK_DEPTH) {
      breakStale(breakFile, other.identity, depth + 1);
    }
    return false;
  }
  try {
    if (readLock(file)?.identity === identity) fs.rmSync(file, { force: true });
    return true;
  } finally {
    if (readLock(breakFile)?.owner?.nonce === breaker.nonce) fs.rmSync(breakFile, { force: true });
  }
}

/** A short file-name-safe tag of a lock's identity (its exact content). */
function identityTag(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 24);
}

/** Blocks the thread for `ms` (acquire is synchronous; the wait is a few ms under contention). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
