/**
 * Simulator speed (issue 7): the default business (2000 customers, 180 days, ≈ 440k events) must
 * be simulated in well under 10 s. Baseline, in the same run: building the same number of
 * event-shaped objects with ISO timestamps and no behaviour at all (the floor any simulator pays).
 *
 *   npm run bench:simulate
 *   npm run bench:simulate -- --customers 5000 --days 365 --rounds 3
 */
import { parseArgs } from 'node:util';
import { simulateBusiness } from '../model/simulate/index.ts';

const { values: args } = parseArgs({
  options: {
    customers: { type: 'string', default: '2000' },
    days: { type: 'string', default: '180' },
    rounds: { type: 'string', default: '3' },
  },
});
const customers = Number(args.customers);
const days = Number(args.days);
const rounds = Number(args.rounds);

/** The floor: `count` plain event objects with an ISO timestamp each. */
function baseline(count: number): number {
  const started = performance.now();
  const events: object[] = [];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    events.push({
      eventId: `cus-${i % 2000}-e${i}`,
      customerId: `cus-${i % 2000}`,
      type: 'session_started',
      occurredAt: new Date(t0 + i * 1000).toISOString(),
      properties: { durationSeconds: i % 3600 },
    });
  }
  if (events.length !== count) throw new Error('baseline lost events');
  return performance.now() - started;
}

const simulated: number[] = [];
const floor: number[] = [];
let events = 0;
for (let round = 0; round < rounds; round++) {
  const started = performance.now();
  events = simulateBusiness({ customers, days, seed: 42 + round }).events.length;
  simulated.push(performance.now() - started);
  floor.push(baseline(events));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const sim = median(simulated);
const base = median(floor);
console.log(
  `simulate ${customers} customers × ${days} days: ${events.toLocaleString('en-US')} events in ${(sim / 1000).toFixed(2)} s (${Math.round(events / (sim / 1000)).toLocaleString('en-US')} events/s, median of ${rounds})`,
);
console.log(`baseline (plain event objects, no behaviour): ${(base / 1000).toFixed(2)} s`);
console.log(`ratio simulate / baseline: ${(sim / base).toFixed(1)}×; target < 10 s: ${sim < 10_000 ? 'met' : 'MISSED'}`);
