import fs from 'node:fs';
import os from 'node:os';
import { WriterLockedError } from '../errors.ts';

interface LockOwner {
  pid: number;
  host: string;
  startedAt: number;
}

/**
 * An exclusive lock file that marks one process as the writer of a corpus. A lock left behind by a
 * process that no longer exists (killed with SIGKILL, power loss) is taken over, so a crash never
 * needs manual clean-up; a live owner makes the second writer fail with a clear message.
 */
/** Locks this process holds, by path: a second writer inside the same process is refused too. */
const heldLocks = new Set<string>();

export class WriterLock {
  private released = false;

  private constructor(private readonly lockPath: string) {}

  /** Takes the lock or throws WriterLockedError naming the process that holds it. */
  static acquire(lockPath: string, what: string): WriterLock {
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), startedAt: Date.now() };
    if (heldLocks.has(lockPath)) {
      throw new WriterLockedError(
        `${what} is already being written by this process. Wait for that work to finish.`,
      );
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        fs.writeFileSync(lockPath, JSON.stringify(owner), { flag: 'wx' });
        heldLocks.add(lockPath);
        return new WriterLock(lockPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const existing = readOwner(lockPath);
      // Our own pid in a lock we do not hold is a leftover from a previous process that had it.
      if (
        existing &&
        existing.host === os.hostname() &&
        existing.pid !== process.pid &&
        isAlive(existing.pid)
      ) {
        throw new WriterLockedError(
          `${what} is being written by another Reckon process (pid ${existing.pid}, since ${new Date(existing.startedAt).toISOString()}). Wait for it to finish, or stop it and run the command again.`,
        );
      }
      // Stale (owner gone) or unreadable (crash while writing the lock): remove and retry.
      fs.rmSync(lockPath, { force: true });
    }
    throw new WriterLockedError(
      `Could not take the writer lock ${lockPath}; another process keeps re-creating it.`,
    );
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    heldLocks.delete(this.lockPath);
    const owner = readOwner(this.lockPath);
    if (owner?.pid === process.pid) fs.rmSync(this.lockPath, { force: true });
  }
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') {
      return { pid: parsed.pid, host: parsed.host, startedAt: Number(parsed.startedAt) || 0 };
    }
  } catch {
    // fall through
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
