import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const HISTORY_SIZE = 1000;

/** `$KRYPTON_HISTORY` (empty: keep none), else ~/.krypton_history. */
export function historyPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env.KRYPTON_HISTORY;
  if (configured !== undefined) return configured === '' ? undefined : configured;
  try {
    return join(homedir(), '.krypton_history');
  } catch {
    return undefined;
  }
}

/**
 * REPL history in a file, oldest line first. Every failure (no home folder, read-only file) only
 * turns persistence off: history is a convenience and must never stop the REPL.
 */
export class HistoryFile {
  private enabled: boolean;
  private last: string | undefined;

  constructor(private readonly path: string | undefined) {
    this.enabled = path !== undefined;
  }

  /** Newest first, as readline wants it. */
  load(): string[] {
    if (!this.enabled) return [];
    let lines: string[];
    try {
      lines = readFileSync(this.path!, 'utf8').split('\n').filter((line) => line.trim() !== '');
    } catch {
      return [];
    }
    const kept = lines.slice(-HISTORY_SIZE);
    if (lines.length > 2 * HISTORY_SIZE) this.rewrite(kept);
    this.last = kept[kept.length - 1];
    return kept.reverse();
  }

  add(line: string): void {
    if (!this.enabled || line.trim() === '' || line === this.last) return;
    this.last = line;
    try {
      appendFileSync(this.path!, `${line}\n`, { mode: 0o600 });
    } catch {
      this.enabled = false;
    }
  }

  private rewrite(lines: readonly string[]): void {
    try {
      writeFileSync(this.path!, lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
    } catch {
      // Appending may still work; a long file only costs a slower start.
    }
  }
}
