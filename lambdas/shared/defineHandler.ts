import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

/** The Powertools logger and metrics a handler writes to. */
export interface HandlerTools {
  logger: Logger;
  metrics: Metrics;
}

/** Namespace of every churnguard metric when the environment does not name one (a local run). */
export const DEFAULT_METRICS_NAMESPACE = 'churnguard';

/**
 * Logger and metrics configured by the environment the stack sets (`POWERTOOLS_SERVICE_NAME`,
 * `POWERTOOLS_METRICS_NAMESPACE`, `POWERTOOLS_LOG_LEVEL`). `service` applies only where the
 * environment names none, so a deployed function never overrides the stack's settings.
 */
export function toolsFromEnv(service: string, env: NodeJS.ProcessEnv = process.env): HandlerTools {
  const serviceName = env.POWERTOOLS_SERVICE_NAME || service;
  return {
    logger: new Logger({ serviceName }),
    metrics: new Metrics({ serviceName, namespace: env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE }),
  };
}

export interface HandlerDefinition<E, R> {
  /** Service name where `POWERTOOLS_SERVICE_NAME` is unset, e.g. `churnguard-ingest`. */
  service: string;
  /** The function's work: parse, call the use case, map the result. Metrics added here are published after. */
  handle(event: E, tools: HandlerTools, context: Context | undefined): Promise<R>;
  /**
   * The answer to an unexpected error (e.g. an HTTP 500). Without it the error is rethrown, so
   * the caller (Scheduler, Step Functions, SQS) sees the failure and retries.
   */
  onError?(error: unknown, tools: HandlerTools): R;
  /** Logger and metrics to use instead of `toolsFromEnv(service)` (tests). */
  tools?: HandlerTools;
}

/**
 * The one shape of every churnguard Lambda handler: the Lambda context joins the logs, a
 * `ColdStart` metric on the first invocation, an `UnhandledErrors` metric and an error log on any
 * failure, and metrics published whatever happens.
 *
 * @example
 * export const handler = defineHandler<SQSEvent, SQSBatchResponse>({ service: 'churnguard-outreach', handle: (event, tools, context) => consume(event, context) });
 */
export function defineHandler<E, R>(definition: HandlerDefinition<E, R>): (event: E, context?: Context) => Promise<R> {
  let tools = definition.tools;
  return async (event, context) => {
    tools ??= toolsFromEnv(definition.service);
    const { logger, metrics } = tools;
    if (context) logger.addContext(context);
    metrics.captureColdStartMetric(context?.functionName);
    try {
      return await definition.handle(event, tools, context);
    } catch (error) {
      metrics.addMetric('UnhandledErrors', MetricUnit.Count, 1);
      logger.error('invocation failed', error as Error);
      if (definition.onError) return definition.onError(error, tools);
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
