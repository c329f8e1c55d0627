/**
 * The relay's dead-letter queue, written by the relay itself: a record it could not publish after
 * its retries is sent here whole (the event and its table key), so an operator can replay exactly
 * it (`mreg events replay`), rather than only the stream batch's metadata that the event source
 * mapping's on-failure destination records.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { RegistryEvent } from '../../domain/events';

/** What the relay dead-letters for one record. */
export interface DeadLetter {
  readonly reason: string;
  /** The audit entry (outbox record) in the table. */
  readonly table_key: { readonly pk: string; readonly sk: string };
  readonly event_id: string;
  readonly event_type: string;
  readonly occurred_at: number;
  /** The model the event is about (webhook events are about no model). */
  readonly model?: { readonly id: string; readonly name: string };
  /** The whole event (left out only if the message would exceed SQS's 256 KiB). */
  readonly event?: RegistryEvent;
  /** How to publish it again. */
  readonly replay: string;
}

export interface DeadLetterSink {
  send(letter: DeadLetter): Promise<void>;
}

/** SQS's limit on a message body. */
const SQS_MESSAGE_LIMIT = 256 * 1024;

/** The message body: the letter, without the event when the whole would not fit. */
export function deadLetterBody(letter: DeadLetter): string {
  const whole = JSON.stringify(letter);
  if (Buffer.byteLength(whole, 'utf8') <= SQS_MESSAGE_LIMIT) return whole;
  const { event: _event, ...rest } = letter;
  return JSON.stringify(rest);
}

export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(letter: DeadLetter): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: deadLetterBody(letter) }),
    );
  }
}
