import type { Writable } from '../adapters/console/console-reporter.js';
import type { SyncProgress } from '../app/event-syncer.js';

export interface ProgressReporter {
  update(progress: SyncProgress): void;
  /** Ends the bar's line so later output starts on a fresh one. */
  done(): void;
}

const BAR_WIDTH = 30;

/**
 * A progress bar redrawn in place on a terminal; plain lines, one per page, anywhere else (CI logs,
 * files), since carriage returns there would only make noise.
 */
export function createProgressReporter(stream: Writable & { isTTY?: boolean }): ProgressReporter {
  if (stream.isTTY) {
    let drawn = false;
    return {
      update(progress) {
        const ratio = progress.total === 0 ? 1 : Math.min(1, progress.processed / progress.total);
        const filled = Math.round(ratio * BAR_WIDTH);
        stream.write(
          `\r\x1b[2Ksyncing [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${progress.processed}/${progress.total} events, page ${progress.page}/${progress.pages}, ${progress.newEvents} new`,
        );
        drawn = true;
      },
      done() {
        if (drawn) stream.write('\n');
        drawn = false;
      },
    };
  }
  return {
    update(progress) {
      if (!progress.pageDone) return;
      stream.write(
        `page ${progress.page}/${progress.pages}: ${progress.processed}/${progress.total} events looked at, ${progress.newEvents} new\n`,
      );
    },
    done() {},
  };
}
