import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterQueue } from '../../app/ports.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Queues {
  sourceArn: string;
  dlqArn: string;
  dlqUrl: string;
}

/**
 * The outreach queue's dead-letter queue on SQS, found from the queue's own RedrivePolicy (so the job
 * needs no extra setting): its depth, a look at its messages, and a redrive with SQS's message-move
 * API (`StartMessageMoveTask` back to the outreach queue, then `ListMessageMoveTasks` until it ends).
 * The same calls work on AWS and on the local emulator.
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  #queues?: Promise<Queues>;

  constructor(
    private readonly sqs: SQSClient,
    /** The outreach queue (the DLQ's source). */
    private readonly queueUrl: string,
  ) {}

  async depth(): Promise<number> {
    const { dlqUrl } = await this.#resolve();
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0);
  }

  async peek(limit = 100): Promise<DeadLetter[]> {
    const { dlqUrl } = await this.#resolve();
    const seen = new Map<string, DeadLetter>();
    const handles: string[] = [];
    for (let round = 0; seen.size < limit && round < 100; round++) {
      const { Messages = [] } = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
          AttributeNames: ['All'],
        }),
      );
      const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const m of fresh) {
        handles.push(m.ReceiptHandle ?? '');
        seen.set(
          m.MessageId as string,
          deadLetter(m.MessageId as string, m.Body ?? '', Number(m.Attributes?.ApproximateReceiveCount ?? 0)),
        );
      }
    }
    // Visible again at once: a look is not a consumption.
    for (let i = 0; i < handles.length; i += 10) {
      const entries = handles.slice(i, i + 10).map((ReceiptHandle, j) => ({ Id: `v${j}`, ReceiptHandle, VisibilityTimeout: 0 }));
      await this.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
    }
    return [...seen.values()].slice(0, limit);
  }

  async redrive(options: { maxWaitMs?: number } = {}): Promise<{ status: string; moved: number; toMove: number }> {
    const { sourceArn, dlqArn } = await this.#resolve();
    await this.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: sourceArn }));
    const deadline = Date.now() + (options.maxWaitMs ?? 60_000);
    for (;;) {
      const { Results = [] } = await this.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 1 }));
      const task = Results[0];
      const state = {
        status: task?.Status ?? 'UNKNOWN',
        moved: Number(task?.ApproximateNumberOfMessagesMoved ?? 0),
        toMove: Number(task?.ApproximateNumberOfMessagesToMove ?? 0),
      };
      if (state.status !== 'RUNNING' || Date.now() >= deadline) return state;
      await sleep(500);
    }
  }

  #resolve(): Promise<Queues> {
    this.#queues ??= (async () => {
      const { Attributes = {} } = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn', 'RedrivePolicy'] }),
      );
      const dlqArn = (JSON.parse(Attributes.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string }).deadLetterTargetArn;
      if (!Attributes.QueueArn || !dlqArn) throw new Error(`the outreach queue ${this.queueUrl} has no dead-letter queue (RedrivePolicy)`);
      // Same account and region as the queue: its URL with the DLQ's name.
      const dlqUrl = this.queueUrl.replace(/[^/]+$/, dlqArn.split(':').pop() as string);
      return { sourceArn: Attributes.QueueArn, dlqArn, dlqUrl };
    })();
    this.#queues.catch(() => {
      this.#queues = undefined;
    });
    return this.#queues;
  }
}

function deadLetter(messageId: string, body: string, receiveCount: number): DeadLetter {
  const letter: DeadLetter = { messageId, receiveCount, body };
  try {
    const parsed = JSON.parse(body) as { dedupId?: unknown; customerId?: unknown; runId?: unknown };
    if (typeof parsed.dedupId === 'string') letter.dedupId = parsed.dedupId;
    if (typeof parsed.customerId === 'string') letter.customerId = parsed.customerId;
    if (typeof parsed.runId === 'string') letter.runId = parsed.runId;
  } catch {
    // not JSON: the raw body says it
  }
  return letter;
}
