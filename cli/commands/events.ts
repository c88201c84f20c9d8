import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { eventStoreFromEnv } from '../../lambdas/ingest/config.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';

const EventsOptions = z.object({
  customer: z.string({ error: '--customer is required' }).min(1, '--customer must not be empty'),
  limit: z.coerce
    .number({ error: '--limit must be a number' })
    .int('--limit must be a whole number')
    .positive('--limit must be at least 1')
    .optional(),
  dataDir: z.string().min(1),
  json: z.boolean().optional(),
});

const compact = (value: unknown, width: number): string => {
  const text = JSON.stringify(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

export function register(program: Command): void {
  program
    .command('events')
    .description("list a customer's stored events, oldest first")
    .requiredOption('--customer <id>', 'customer id')
    .addOption(new Option('--limit <n>', 'show at most n events'))
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (raw: unknown) => {
      const options = EventsOptions.parse(raw);
      const events = await withLocalStack(options.dataDir, () =>
        eventStoreFromEnv().listCustomerEvents(options.customer, options.limit === undefined ? {} : { limit: options.limit }),
      );
      if (options.json) {
        console.log(JSON.stringify(events, null, 2));
        return;
      }
      if (events.length === 0) {
        console.log(`no events stored for customer ${options.customer}`);
        return;
      }
      const table = new Table({
        head: ['occurredAt', 'type', 'eventId', 'properties'],
        ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
      });
      for (const e of events) table.push([e.occurredAt, e.type, e.eventId, compact(e.properties, 60)]);
      console.log(table.toString());
      console.log(`${events.length} event(s) of customer ${options.customer}`);
    });
}
