/** The SDK's standard per-service endpoint variables, by the service they point at. */
export const ENDPOINT_VARIABLES = {
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  s3: 'AWS_ENDPOINT_URL_S3',
  sqs: 'AWS_ENDPOINT_URL_SQS',
} as const;
export type Service = keyof typeof ENDPOINT_VARIABLES;
export const SERVICES = Object.keys(ENDPOINT_VARIABLES) as Service[];

/** An endpoint the user set, and the variable it came from (for the note on stderr). */
export interface UserEndpoint {
  url: string;
  variable: string;
}

/**
 * Where the embedded stack lists the endpoint values it wrote into the environment: a later stack
 * opened in the same process, or a child process that inherits the environment (the demo's
 * `serve`, a test's CLI), must not mistake them for endpoints the user chose.
 */
export const OWN_ENDPOINTS_VARIABLE = 'CHURNGUARD_OWN_ENDPOINTS';

const written = (env: NodeJS.ProcessEnv) => new Set((env[OWN_ENDPOINTS_VARIABLE] ?? '').split(' ').filter(Boolean));

/** Records an endpoint the embedded stack set in this process's environment. */
export function rememberWrittenEndpoint(url: string, env: NodeJS.ProcessEnv = process.env): void {
  const urls = written(env);
  urls.add(url);
  env[OWN_ENDPOINTS_VARIABLE] = [...urls].join(' ');
}

/**
 * The endpoints the user already set with the SDK's standard variables (`AWS_ENDPOINT_URL_<SERVICE>`,
 * else `AWS_ENDPOINT_URL` for every service), leaving out those the embedded stack wrote.
 */
export function userEndpoints(env: NodeJS.ProcessEnv = process.env): Partial<Record<Service, UserEndpoint>> {
  const found: Partial<Record<Service, UserEndpoint>> = {};
  const own = written(env);
  for (const service of SERVICES) {
    const specific = env[ENDPOINT_VARIABLES[service]]?.trim();
    const general = env.AWS_ENDPOINT_URL?.trim();
    const [url, variable] = specific ? [specific, ENDPOINT_VARIABLES[service]] : general ? [general, 'AWS_ENDPOINT_URL'] : [];
    if (url && variable && !own.has(url)) found[service] = { url, variable };
  }
  return found;
}

/** "DynamoDB at http://… (AWS_ENDPOINT_URL_DYNAMODB)", for the note on stderr. */
export const describeEndpoints = (found: Partial<Record<Service, UserEndpoint>>): string =>
  SERVICES.filter((s) => found[s])
    .map((s) => `${s === 'dynamodb' ? 'DynamoDB' : s.toUpperCase()} at ${found[s]?.url} (${found[s]?.variable})`)
    .join(', ');
