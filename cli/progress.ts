/**
 * Progress bars on stderr (bytes, rate, ETA), one per phase: hashing, uploading, verifying,
 * downloading. Shown only when stderr is a terminal and the output is a table (see cli/context.ts).
 */
import { SingleBar } from 'cli-progress';
import type { ProgressEvent } from '../sdk';
import { bytes } from './format';

export interface ProgressReporter {
  readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  stop(): void;
}

const LABELS: Record<ProgressEvent['phase'], string> = {
  hashing: 'hashing    ',
  uploading: 'uploading  ',
  verifying: 'verifying  ',
  downloading: 'downloading',
};

export function progressReporter(enabled: boolean): ProgressReporter {
  if (!enabled) return { onProgress: undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  let phase: ProgressEvent['phase'] | undefined;
  let started = 0;
  let startBytes = 0;
  const payload = (e: ProgressEvent) => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0.2 ? (e.bytesDone - startBytes) / seconds : 0;
    return {
      phase: LABELS[e.phase],
      done: bytes(e.bytesDone),
      size: bytes(e.bytesTotal),
      rate: rate > 0 ? `${bytes(rate)}/s` : '-',
    };
  };
  return {
    onProgress(e) {
      if (e.phase !== phase) {
        bar?.stop();
        phase = e.phase;
        started = Date.now();
        startBytes = e.bytesDone;
        bar = new SingleBar({
          stream: process.stderr,
          format: '{phase} [{bar}] {percentage}% | {done} / {size} | {rate} | ETA {eta_formatted}',
          barsize: 30,
          hideCursor: true,
          etaBuffer: 50,
          fps: 8,
        });
        bar.start(Math.max(1, e.bytesTotal), e.bytesDone, payload(e));
        return;
      }
      bar?.update(e.bytesDone, payload(e));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
