import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import {
  type CustomerTruth,
  DEFAULT_SIMULATION_END,
  type SimulationOptions,
  type SimulationWindow,
  simulateCustomers,
  simulationWindow,
  TRUE_PLAYBOOK_EFFECTS,
} from '../../model/simulate/index.ts';
import { jsonOption } from '../options.ts';

export interface SimulationFileResult {
  eventsPath: string;
  truthPath: string;
  customers: number;
  events: number;
  churned: number;
  window: SimulationWindow;
}

/** `events.ndjson` → `events.truth.json` (the answer key beside the events). */
export const truthPathFor = (eventsPath: string): string => eventsPath.replace(/(\.ndjson|\.jsonl|\.json)?$/, '.truth.json');

/**
 * Simulates a business into an NDJSON file of events (one customer after another, streamed, so
 * 50,000 customers fit in memory) and writes the truth beside it.
 */
export async function simulateToFile(
  options: SimulationOptions,
  eventsPath: string,
  onCustomer?: (done: number) => void,
): Promise<SimulationFileResult> {
  await mkdir(path.dirname(path.resolve(eventsPath)), { recursive: true });
  const out = createWriteStream(eventsPath, { encoding: 'utf8' });
  const truth: CustomerTruth[] = [];
  let events = 0;
  let buffer = '';
  for (const customer of simulateCustomers(options)) {
    for (const event of customer.events) buffer += `${JSON.stringify(event)}\n`;
    events += customer.events.length;
    truth.push(customer.truth);
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
    onCustomer?.(truth.length);
  }
  out.end(buffer);
  await once(out, 'finish');
  const truthPath = truthPathFor(eventsPath);
  const window = simulationWindow(options);
  // The answer key: who churned and why, and what each playbook truly does (the share of the churn it targets it prevents).
  await writeFile(truthPath, `${JSON.stringify({ window, trueEffects: TRUE_PLAYBOOK_EFFECTS, customers: truth }, null, 0)}\n`);
  return { eventsPath, truthPath, customers: truth.length, events, churned: truth.filter((t) => t.churned).length, window };
}

const positiveInt = (what: string) => (value: string) => {
  const parsed = z.coerce.number().int().positive().safeParse(value);
  if (!parsed.success) throw new Error(`${what} must be a positive whole number, got "${value}"`);
  return parsed.data;
};

const wholeNumber = (what: string) => (value: string) => {
  const parsed = z.coerce.number().int().nonnegative().safeParse(value);
  if (!parsed.success) throw new Error(`${what} must be a whole number ≥ 0, got "${value}"`);
  return parsed.data;
};

export function register(program: Command): void {
  program
    .command('simulate')
    .description('simulate a subscription business: customers who leave for the reasons retention teams see')
    .addOption(new Option('--customers <n>', 'customers').argParser(positiveInt('--customers')).default(2000))
    .addOption(new Option('--days <n>', 'days of history').argParser(positiveInt('--days')).default(180))
    .addOption(new Option('--seed <n>', 'random seed').argParser(wholeNumber('--seed')).default(42))
    .option('--end <date>', 'end of the window, exclusive (the natural --as-of)', DEFAULT_SIMULATION_END)
    .option('--start <date>', 'start of the window (instead of --end)')
    .option('--out <file>', 'events file (NDJSON); the truth goes to <file>.truth.json', 'simulated-events.ndjson')
    .addOption(jsonOption())
    .action(async (opts: { customers: number; days: number; seed: number; end: string; start?: string; out: string; json?: boolean }) => {
      const bar = new SingleBar(
        { format: 'simulate [{bar}] {value}/{total} customers', stream: process.stderr, clearOnComplete: true },
        Presets.shades_classic,
      );
      bar.start(opts.customers, 0);
      const options = {
        customers: opts.customers,
        days: opts.days,
        seed: opts.seed,
        end: opts.end,
        ...(opts.start ? { start: opts.start } : {}),
      };
      const result = await simulateToFile(options, opts.out, (done) => {
        if (done % 250 === 0) bar.update(done);
      });
      bar.stop();
      if (opts.json) {
        console.log(JSON.stringify(result));
        return;
      }
      console.log(
        `${result.events.toLocaleString('en-US')} events from ${result.customers.toLocaleString('en-US')} customers (${result.churned} churned) ${result.window.start.slice(0, 10)} → ${result.window.end.slice(0, 10)}`,
      );
      console.log(`events: ${result.eventsPath}`);
      console.log(`truth:  ${result.truthPath}`);
    });
}
