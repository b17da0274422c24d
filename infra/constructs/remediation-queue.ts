import { Duration } from "aws-cdk-lib";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Receives before a message is parked in the dead-letter queue for an administrator to look at. */
export const MAX_RECEIVE_COUNT = 5;

export interface RemediationQueueProps {
  /** Customer-managed key that encrypts both queues (messages carry the sealed token). */
  readonly encryptionKey: IKey;
  /** Timeout of the Lambda worker that consumes the queue. */
  readonly workerTimeout: Duration;
}

/** The queue feeding the remediate worker, with its dead-letter queue. */
export class RemediationQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: RemediationQueueProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, "DeadLetterQueue", {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      // The maximum SQS allows: failed remediations must outlive a long weekend before anyone looks.
      retentionPeriod: Duration.days(14),
    });

    this.queue = new Queue(this, "Queue", {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      // AWS guidance for Lambda event sources: at least 6x the function timeout. A batch can be
      // received, the function throttled or retried, and the messages must stay invisible that whole
      // time; otherwise another worker picks them up while the first is still revoking the same key.
      visibilityTimeout: Duration.seconds(props.workerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
  }
}
