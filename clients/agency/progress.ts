// Progress of long work (blinding, uploads, tokenising): a bar when stderr is
// a terminal, otherwise throttled plain lines that read well in a cron log
// (`sync: blinding 12000/50000`).
import cliProgress from 'cli-progress';

export interface ProgressBar {
  update(done: number): void;
  stop(): void;
}

export type ProgressFactory = (label: string, total: number) => ProgressBar;

export const silentProgress: ProgressFactory = () => ({ update() {}, stop() {} });

export function lineProgress(write: (line: string) => void, prefix = 'sync', intervalMs = 2000): ProgressFactory {
  return (label, total) => {
    let last = 0;
    let lastDone = -1;
    const emit = (done: number) => {
      lastDone = done;
      last = Date.now();
      write(`${prefix}: ${label} ${done}/${total}`);
    };
    return {
      update(done) {
        if (done === lastDone) return;
        if (done === total || Date.now() - last >= intervalMs) emit(done);
      },
      stop() {
        if (lastDone !== total && lastDone >= 0) emit(lastDone);
      },
    };
  };
}

export function ttyProgress(prefix = 'sync'): ProgressFactory {
  return (label, total) => {
    const bar = new cliProgress.SingleBar(
      {
        format: `${prefix}: ${label.padEnd(12)} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return {
      update(done) {
        bar.update(done);
      },
      stop() {
        bar.stop();
      },
    };
  };
}

/** A bar on a terminal, plain lines on stderr otherwise. */
export function defaultProgress(prefix = 'sync'): ProgressFactory {
  return process.stderr.isTTY ? ttyProgress(prefix) : lineProgress((l) => process.stderr.write(`${l}\n`), prefix);
}
