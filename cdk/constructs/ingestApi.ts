import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { environmentFor } from '../functionEnvironment.ts';
import { createNodeFunction, retentionFor } from './nodeFunction.ts';

export interface JwtAuthorization {
  readonly issuer: string;
  readonly audience: readonly string[];
}

export interface IngestApiProps {
  readonly table: dynamodb.ITableV2;
  readonly dataKey: kms.IKey | undefined;
  readonly eventTtlDays: number;
  /** Absent: IAM (SigV4) authorization, the default. */
  readonly jwt: JwtAuthorization | undefined;
  readonly rateLimit: number;
  readonly burstLimit: number;
  readonly logRetentionDays: number;
  readonly metricsNamespace: string;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of the function's metrics (the alarms watch it). */
  readonly serviceName: string;
}

/** HTTP API access log line: request facts only, no bodies and no caller identity. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
};

/** POST /events: an HTTP API (IAM auth by default, stage throttling, access logs) in front of the ingest function. */
export class IngestApi extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly handler: NodejsFunction;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    this.handler = createNodeFunction(this, 'Handler', {
      entry: 'lambdas/ingest/handler.ts',
      description: 'churnguard: validates usage events and writes them to the table',
      // API Gateway gives an integration at most 30 s.
      timeout: Duration.seconds(29),
      memorySize: 1024,
      logRetentionDays: props.logRetentionDays,
      environment: environmentFor('ingest', {
        tableName: props.table.tableName,
        eventTtlDays: props.eventTtlDays,
        serviceName: props.serviceName,
        metricsNamespace: props.metricsNamespace,
      }),
    });
    // Write-only: ingest never reads the table.
    props.table.grant(this.handler, 'dynamodb:BatchWriteItem', 'dynamodb:PutItem');
    props.dataKey?.grant(this.handler, 'kms:Encrypt', 'kms:GenerateDataKey');

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'churnguard event ingestion',
      createDefaultStage: false,
    });
    this.api.addRoutes({
      path: '/events',
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Ingest', this.handler),
      authorizer: props.jwt
        ? new HttpJwtAuthorizer('JwtAuthorizer', props.jwt.issuer, { jwtAudience: [...props.jwt.audience] })
        : new HttpIamAuthorizer(),
    });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: retentionFor(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit, burstLimit: props.burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
  }

  /** The POST /events URL of the deployed stage. */
  get eventsUrl(): string {
    return `${this.stage.url}events`;
  }
}
