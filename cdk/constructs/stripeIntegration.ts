import { Duration } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { environmentFor } from '../functionEnvironment.ts';
import { acknowledge } from '../nag.ts';
import { createNodeFunction } from './nodeFunction.ts';

export interface StripeIntegrationProps {
  readonly api: apigwv2.HttpApi;
  readonly table: dynamodb.ITableV2;
  readonly dataKey: kms.IKey | undefined;
  readonly eventTtlDays: number;
  /** Existing secret with the endpoint signing secret (whsec_…); absent = one is created, to be filled in. */
  readonly secretArn: string | undefined;
  readonly customerMetadataKey: string | undefined;
  readonly logRetentionDays: number;
  readonly metricsNamespace: string;
}

/** The route Stripe posts to, on the ingest API. */
export const STRIPE_ROUTE_PATH = '/integrations/stripe';

/**
 * `POST /integrations/stripe`: Stripe's webhook deliveries → the Stripe function, which verifies the
 * `Stripe-Signature` header against the endpoint secret in Secrets Manager and writes the mapped
 * events to the table like ingest does. The route has no IAM or JWT authorizer: Stripe can sign
 * neither; the signature is the authentication, checked before anything is read or stored.
 */
export class StripeIntegration extends Construct {
  readonly handler: NodejsFunction;
  readonly secret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: StripeIntegrationProps) {
    super(scope, id);
    this.secret = props.secretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'SigningSecret', props.secretArn)
      : this.createSecret(props.dataKey);
    this.handler = createNodeFunction(this, 'Handler', {
      entry: 'lambdas/stripe/handler.ts',
      description: 'churnguard: verifies Stripe webhook deliveries and writes the events they map to',
      timeout: Duration.seconds(29),
      memorySize: 512,
      logRetentionDays: props.logRetentionDays,
      environment: environmentFor('stripe', {
        tableName: props.table.tableName,
        eventTtlDays: props.eventTtlDays,
        stripeWebhookSecretArn: this.secret.secretArn,
        stripeCustomerMetadataKey: props.customerMetadataKey,
        serviceName: 'churnguard-stripe',
        metricsNamespace: props.metricsNamespace,
      }),
    });
    props.table.grant(this.handler, 'dynamodb:BatchWriteItem', 'dynamodb:PutItem');
    props.dataKey?.grant(this.handler, 'kms:Encrypt', 'kms:GenerateDataKey');
    this.secret.grantRead(this.handler);
    const [route] = props.api.addRoutes({
      path: STRIPE_ROUTE_PATH,
      methods: [apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Stripe', this.handler),
      authorizer: new apigwv2.HttpNoneAuthorizer(),
    });
    if (route)
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'Stripe cannot sign with SigV4 or present a JWT: the function authenticates every delivery by its Stripe-Signature (HMAC-SHA256 with the endpoint secret, 5-minute tolerance) before reading or storing anything, and answers 400 otherwise.',
      );
  }

  private createSecret(dataKey: kms.IKey | undefined): secretsmanager.Secret {
    const secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description:
        'churnguard: the Stripe endpoint signing secret (whsec_…). Put the value Stripe shows for the endpoint: aws secretsmanager put-secret-value --secret-id <StripeWebhookSecretArn> --secret-string whsec_…',
      ...(dataKey ? { encryptionKey: dataKey } : {}),
    });
    acknowledge(
      secret,
      'AwsSolutions-SMG4',
      'Stripe issues this secret and rolls it (Dashboard → Webhooks → Roll secret); a rotation Lambda cannot. The runbook puts the new value, old and new space-separated while both sign.',
    );
    return secret;
  }
}
