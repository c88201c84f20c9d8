import { closeSync, copyFileSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { createRequestHandler } from 'local-aws-sqs';
import { type Warn, warnOnStderr, writeFileAtomicSync } from './stateFiles.ts';

/** The write-through journal of the local SQS emulator, in the data dir. */
export const QUEUE_JOURNAL = 'sqs-journal.ndjson';

/** One line of the journal. `put` of an id that is in another queue is a move (to the DLQ). */
type Entry =
  | { op: 'put'; q: string; id: string; body: string; src?: string; at: number }
  | { op: 'del'; q: string; id: string }
  | { op: 'purge'; q: string };

interface Stored {
  body: string;
  /** DeadLetterQueueSourceArn of a message in a DLQ. */
  src?: string;
  at: number;
}

/** Queue name → message id → message, in sending order. */
export type QueueState = Map<string, Map<string, Stored>>;

const isEntry = (value: unknown): value is Entry => {
  const e = value as Partial<Record<string, unknown>> | null;
  if (!e || typeof e.q !== 'string') return false;
  if (e.op === 'purge') return true;
  if (typeof e.id !== 'string') return false;
  return e.op === 'del' || (e.op === 'put' && typeof e.body === 'string' && typeof e.at === 'number');
};

/**
 * Replays journal lines into queue contents. A torn last line (a `kill -9` in the middle of a
 * write that was never acknowledged) is dropped quietly; a bad line elsewhere marks the journal corrupt.
 */
export function replayJournal(text: string): { state: QueueState; corrupt: number } {
  const state: QueueState = new Map();
  const queue = (name: string) => state.get(name) ?? state.set(name, new Map()).get(name)!;
  const lines = text.split('\n');
  let corrupt = 0;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = undefined;
    }
    if (!isEntry(entry)) {
      if (i < lines.length - 1) corrupt++;
      return;
    }
    if (entry.op === 'purge') queue(entry.q).clear();
    else if (entry.op === 'del') queue(entry.q).delete(entry.id);
    else {
      for (const [name, messages] of state) if (name !== entry.q) messages.delete(entry.id);
      queue(entry.q).set(entry.id, { body: entry.body, at: entry.at, ...(entry.src ? { src: entry.src } : {}) });
    }
  });
  return { state, corrupt };
}

const journalText = (state: QueueState): string =>
  [...state].flatMap(([q, messages]) => [...messages].map(([id, m]) => `${JSON.stringify({ op: 'put', q, id, ...m })}\n`)).join('');

/** The emulator's queue, as far as the journal needs it (the package's public members). */
interface EmulatedQueue {
  QueueName: string;
  MessageRetentionPeriod: number;
  setRecord: (
    input: Record<string, unknown>,
    messageId?: string,
  ) => { record?: { MessageId?: string; MessageBody?: string; attributes?: Record<string, string> } };
  delete(receiptHandle: string): boolean;
  clearRecords(): void;
}

/** The message id inside a local-aws-sqs receipt handle (base64 of a uuid and `{ MessageId, … }`). */
function messageIdOf(receiptHandle: string): string | undefined {
  try {
    const text = Buffer.from(receiptHandle, 'base64').toString('utf8');
    const id = (JSON.parse(text.slice(text.indexOf('{'))) as { MessageId?: unknown }).MessageId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

export interface DurableSqs {
  server: Server;
  endpoint: string;
  /** Puts the journal's messages back into the queues (call once they exist); returns how many. */
  restore(): number;
  close(): Promise<void>;
}

/**
 * The local-aws-sqs emulator (in memory) behind a write-through journal: every message it accepts
 * (SendMessage, SendMessageBatch, a DLQ move, a message-move task) and every delete or purge is
 * appended to `<dataDir>/sqs-journal.ndjson`, and the journal is fsynced before the HTTP answer
 * leaves, so a message SQS acknowledged to a sender survives `kill -9` at any moment. On start the
 * journal is replayed and compacted (temp file + rename); a corrupt journal is kept aside with a
 * warning and what could be read is used. Receive counts and visibility are not kept: after a
 * restart every message is visible again, as after a visibility timeout.
 */
export async function startDurableSqs(options: { dataDir: string; accountId: string; warn?: Warn }): Promise<DurableSqs> {
  const warn = options.warn ?? warnOnStderr;
  const file = path.join(options.dataDir, QUEUE_JOURNAL);
  const { state, corrupt } = replayJournal(existsSync(file) ? readFileSync(file, 'utf8') : '');
  if (corrupt > 0) {
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    copyFileSync(file, aside);
    warn(`${QUEUE_JOURNAL} had ${corrupt} unreadable line(s); kept as ${path.basename(aside)}, the readable messages are restored`);
  }
  writeFileAtomicSync(file, journalText(state));
  const fd = openSync(file, 'a');
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    writeSync(fd, text);
    fdatasyncSync(fd);
  };
  const append = (entry: Entry) => {
    pending.push(`${JSON.stringify(entry)}\n`);
    // Changes no request waits for (a DLQ move on a timer) are flushed right after.
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };

  const { service, requestHandler } = createRequestHandler({
    port: 0,
    hostname: '127.0.0.1',
    accountId: options.accountId,
    emulateQueueCreationLifecycle: false,
  });
  const originals = new WeakMap<EmulatedQueue, EmulatedQueue['setRecord']>();
  const wrapQueues = () => {
    for (const queue of service.Queues as unknown as EmulatedQueue[]) {
      if (originals.has(queue)) continue;
      const setRecord = queue.setRecord;
      originals.set(queue, setRecord);
      queue.setRecord = (input, messageId) => {
        const result = setRecord(input, messageId);
        const record = result?.record;
        if (record?.MessageId && typeof record.MessageBody === 'string') {
          const src = record.attributes?.DeadLetterQueueSourceArn;
          append({
            op: 'put',
            q: queue.QueueName,
            id: record.MessageId,
            body: record.MessageBody,
            at: Date.now(),
            ...(src ? { src } : {}),
          });
        }
        return result;
      };
      const remove = queue.delete.bind(queue);
      queue.delete = (receiptHandle) => {
        const deleted = remove(receiptHandle);
        const id = messageIdOf(receiptHandle);
        if (id) append({ op: 'del', q: queue.QueueName, id });
        return deleted;
      };
      const clear = queue.clearRecords.bind(queue);
      queue.clearRecords = () => {
        clear();
        append({ op: 'purge', q: queue.QueueName });
      };
    }
  };

  const server = createServer((req, res) => {
    wrapQueues();
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    // Durable before the sender hears "sent": the journal is on disk when the answer leaves.
    res.end = ((...args: unknown[]) => {
      wrapQueues();
      try {
        flush();
      } catch (error) {
        res.statusCode = 500;
        warn(`could not write ${QUEUE_JOURNAL}: ${(error as Error).message}`);
      }
      return end(...args);
    }) as typeof res.end;
    requestHandler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('SQS emulator has no TCP address');
  service.PORT = address.port;
  service.HOSTNAME = '127.0.0.1';

  return {
    server,
    endpoint: `http://127.0.0.1:${address.port}`,
    restore() {
      wrapQueues();
      let restored = 0;
      for (const [name, messages] of state) {
        const queue = (service.Queues as unknown as EmulatedQueue[]).find((q) => q.QueueName === name);
        if (!queue) {
          if (messages.size) warn(`${messages.size} journaled message(s) of queue ${name} not restored: the queue no longer exists`);
          continue;
        }
        const setRecord = originals.get(queue) as EmulatedQueue['setRecord'];
        for (const [id, message] of messages) {
          if (Date.now() - message.at > queue.MessageRetentionPeriod * 1000) continue;
          const system = message.src
            ? { MessageSystemAttributes: { DeadLetterQueueSourceArn: { DataType: 'String', StringValue: message.src } } }
            : {};
          setRecord({ MessageBody: message.body, ...system }, id);
          restored++;
        }
      }
      return restored;
    },
    async close() {
      flush();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      closeSync(fd);
    },
  };
}
