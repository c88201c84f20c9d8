/**
 * A child process for the durability test: opens the local stack on the data dir given as the first
 * argument (owning it) and sends outreach messages one by one, printing `acked <n>` to stdout each
 * time SQS acknowledged one, until it is killed.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { openLocalStack } from '../../cli/local/localStack.ts';

const dataDir = process.argv[2] as string;
await openLocalStack(dataDir);
const { sqs } = createAwsClients();
for (let n = 0; n < 100_000; n++) {
  await sqs.send(new SendMessageCommand({ QueueUrl: process.env.OUTREACH_QUEUE_URL, MessageBody: JSON.stringify({ n }) }));
  process.stdout.write(`acked ${n}\n`);
}
