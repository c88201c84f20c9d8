import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import Stripe from 'stripe';
import { customerPk } from '../../adapters/aws/keys.ts';
import { LOCAL_RESOURCES } from '../../cli/local/localResources.ts';
import { stripeFixtureText } from '../helpers/stripeFixtures.ts';
import { deployedFunction, readCloudAssembly } from './harness/cloudAssembly.ts';
import { httpApiEvent } from './harness/events.ts';
import { type LambdaInstance, startFunction } from './harness/lambdaHarness.ts';
import { type LocalCloud, startLocalCloud } from './harness/localCloud.ts';

/**
 * The Stripe function's deployment package, run as Lambda runs it with the template's environment:
 * its signing secret from the Secrets Manager stand-in, its writes to the table. A signed Stripe
 * delivery is stored; a tampered one is refused with 400 and stores nothing.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const CDK_OUT = path.resolve(process.env.CHURNGUARD_CDK_OUT ?? path.join(REPO_ROOT, 'cdk.out'));

let cloud: LocalCloud;
let stripe: LambdaInstance;

before(async () => {
  const assembly = readCloudAssembly(CDK_OUT);
  cloud = await startLocalCloud(assembly.template);
  const fn = deployedFunction(assembly, 'Churnguard/Stripe/Handler');
  stripe = await startFunction(fn, cloud.environmentFor(fn.environment));
});

after(async () => {
  await stripe?.stop();
  await cloud?.close();
});

const deliver = async (body: string, signedBody = body) => {
  const event = httpApiEvent({ path: '/integrations/stripe', contentType: 'application/json; charset=utf-8', body });
  event.headers['stripe-signature'] = Stripe.webhooks.generateTestHeaderString({ payload: signedBody, secret: cloud.stripeSecret });
  const { result, error } = await stripe.invoke<APIGatewayProxyStructuredResultV2>(event);
  assert.equal(error, undefined, JSON.stringify(error));
  return { status: result?.statusCode, body: JSON.parse(String(result?.body)) as Record<string, unknown> };
};

const storedFor = async (customerId: string) =>
  (
    await cloud.clients.documents.send(
      new QueryCommand({
        TableName: LOCAL_RESOURCES.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': customerPk(customerId) },
      }),
    )
  ).Items ?? [];

describe('the Stripe bundle behind POST /integrations/stripe', () => {
  it('stores a signed invoice.payment_failed as payment_failed of the Stripe customer', async () => {
    const answer = await deliver(stripeFixtureText('invoice.payment_failed'));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const stored = await storedFor('cus_TSblueFern01');
    assert.deepEqual(
      stored.map((item) => [item.type, item.eventId]),
      [['payment_failed', 'stripe:evt_1SVcPf2eZvKYlo2CdAxNl0QT']],
    );
  });

  it('refuses a tampered delivery with 400 and stores nothing', async () => {
    const signed = stripeFixtureText('invoice.paid');
    const answer = await deliver(signed.replace('"amount_paid": 4900', '"amount_paid": 1'), signed);
    assert.equal(answer.status, 400);
    const stored = await storedFor('cus_TSblueFern01');
    assert.ok(!stored.some((item) => item.type === 'payment_succeeded'), 'no payment_succeeded stored');
  });
});
