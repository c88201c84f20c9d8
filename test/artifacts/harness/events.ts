import { createHash, randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2WithIAMAuthorizer, SQSEvent } from 'aws-lambda';

/**
 * Events in the shapes the AWS services deliver them: API Gateway's HTTP API (payload format 2.0)
 * behind an IAM authorizer, and an SQS event source mapping's batch.
 */

export interface HttpRequest {
  method?: string;
  path?: string;
  contentType: string;
  body: string;
  /** HTTP APIs base64-encode bodies they do not treat as text. */
  base64?: boolean;
}

/** `POST /events` as the HTTP API passes it to the integration after SigV4 (IAM) authorization. */
export function httpApiEvent(request: HttpRequest): APIGatewayProxyEventV2WithIAMAuthorizer {
  const method = request.method ?? 'POST';
  const rawPath = request.path ?? '/events';
  const now = new Date();
  return {
    version: '2.0',
    routeKey: `POST ${rawPath}`,
    rawPath,
    rawQueryString: '',
    headers: {
      'content-type': request.contentType,
      'content-length': String(Buffer.byteLength(request.body)),
      host: 'abc123.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'churnguard-producer/1.0',
      'x-amz-date': now.toISOString().replace(/[-:]|\.\d{3}/g, ''),
      'x-forwarded-for': '203.0.113.10',
      'x-forwarded-proto': 'https',
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: {
        iam: {
          accessKey: 'ASIAEXAMPLEKEY',
          accountId: '123456789012',
          callerId: 'AROAEXAMPLEID:producer',
          cognitoIdentity: null as never,
          principalOrgId: 'o-example',
          userArn: 'arn:aws:sts::123456789012:assumed-role/producer/producer',
          userId: 'AROAEXAMPLEID:producer',
        },
      },
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.10', userAgent: 'churnguard-producer/1.0' },
      requestId: randomUUID(),
      routeKey: `POST ${rawPath}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: request.base64 ? Buffer.from(request.body).toString('base64') : request.body,
    isBase64Encoded: request.base64 ?? false,
  };
}

/** The batch an SQS event source mapping hands the function for `messages` received from `queueArn`. */
export function sqsBatch(messages: readonly Message[], queueArn: string): SQSEvent {
  return {
    Records: messages.map((message) => {
      const body = message.Body ?? '';
      const attributes = message.Attributes ?? {};
      return {
        messageId: message.MessageId ?? randomUUID(),
        receiptHandle: message.ReceiptHandle ?? '',
        body,
        attributes: {
          ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
          SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
          SenderId: attributes.SenderId ?? 'AROAEXAMPLEID:churnguard-train-score',
          ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: createHash('md5').update(body).digest('hex'),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
      };
    }),
  };
}
