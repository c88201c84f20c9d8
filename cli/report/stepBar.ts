import { Presets, SingleBar } from 'cli-progress';

const say = (message: string) => console.error(`churnguard demo: ${message}`);

/**
 * A progress bar on stderr per long step. When stderr is not a terminal (a log file, CI) it
 * writes a plain line at every tenth of the way instead; nothing when progress is off.
 */
export function stepBar(enabled: boolean, format: string, total: number, payload: Record<string, unknown> = {}) {
  if (!enabled) return { update: (_v: number, _p?: Record<string, unknown>) => {}, stop: () => {} };
  if (!process.stderr.isTTY) {
    const step = format.split(' ')[0];
    let shown = 0;
    return {
      update: (value: number) => {
        const tenth = Math.floor((value / Math.max(1, total)) * 10);
        if (total > 1 && tenth > shown && tenth < 10) {
          shown = tenth;
          say(`${step} ${tenth * 10}% (${value.toLocaleString('en-US')} of ${total.toLocaleString('en-US')})`);
        }
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar({ stream: process.stderr, format, hideCursor: true, etaBuffer: 50 }, Presets.shades_classic);
  bar.start(Math.max(1, total), 0, payload);
  return { update: (value: number, p?: Record<string, unknown>) => bar.update(value, p), stop: () => bar.stop() };
}
