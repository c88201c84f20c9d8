import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Verification, WireRequest } from '../../adapters/http/sigv4.ts';

/** The largest body API Gateway HTTP APIs pass to a function (10 MB); beyond it they answer 413 themselves. */
export const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** Decides whether a request may reach the function, as API Gateway's authorization does before it. */
export type Authorizer = (request: WireRequest) => Promise<Verification>;

export interface HttpApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The request as API Gateway (HTTP API, payload v2) would hand it to the function. The body is
 * always base64-encoded, as API Gateway does for binary media types: the handler then sees the
 * exact bytes, and invalid UTF-8 is its to judge.
 */
export function toApiGatewayEvent(request: IncomingMessage, body: Buffer, routeKey: string): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    body: body.toString('base64'),
    isBase64Encoded: true,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

const send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** Reads the body, or undefined once it passes `limit` bytes (the rest is discarded). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

const wireRequest = (request: IncomingMessage, body: Buffer): WireRequest => {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return { method: request.method ?? 'GET', url: new URL(request.url ?? '/', `http://${headers.host ?? 'localhost'}`), headers, body };
};

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  handlers: ReadonlyMap<string, ApiHandler>,
  authorize?: Authorizer,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path === '/health') {
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { message: 'use GET /health' }, { allow: 'GET' });
    return send(response, 200, { status: 'ok' });
  }
  const handler = handlers.get(path);
  if (!handler) {
    const routes = [...handlers.keys()].map((p) => `POST ${p}`).join(', ');
    return send(response, 404, { message: `no route ${request.method} ${path}; ${routes} or GET /health` });
  }
  if (request.method !== 'POST')
    return send(response, 405, { message: `method ${request.method} is not allowed on ${path}; use POST` }, { allow: 'POST' });
  const body = await readBody(request, GATEWAY_MAX_BODY_BYTES);
  if (body === undefined) return send(response, 413, { message: 'Request Entity Too Large' });
  // IAM auth guards the ingest route; Stripe's route authenticates by its own signature, as in the stack.
  if (authorize && path === '/events') {
    const verdict = await authorize(wireRequest(request, body));
    // API Gateway answers 403 with { message } and never calls the function.
    if (!verdict.ok) return send(response, 403, { message: verdict.message }, { 'x-amzn-errortype': 'ForbiddenException' });
  }
  const result = await handler(toApiGatewayEvent(request, body, `POST ${path}`));
  const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
  const payload = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  response.writeHead(result.statusCode ?? 200, headers);
  response.end(payload);
}

/**
 * Serves the ingest function on node:http the way API Gateway would: `POST /events` goes through
 * `handler` (the very Lambda handler), each of `routes` (e.g. `/integrations/stripe`) through its
 * own, and `GET /health` answers here. With `authorize` (IAM auth), `POST /events` needs its
 * consent first, as behind API Gateway's IAM authorization.
 */
export function startHttpApi(options: {
  port: number;
  host?: string;
  handler: ApiHandler;
  routes?: Record<string, ApiHandler>;
  authorize?: Authorizer;
}): Promise<HttpApi> {
  const host = options.host ?? '127.0.0.1';
  const handlers = new Map<string, ApiHandler>([['/events', options.handler], ...Object.entries(options.routes ?? {})]);
  const server = http.createServer((request, response) => {
    route(request, response, handlers, options.authorize).catch((error: unknown) => {
      if (!response.headersSent)
        send(response, 500, { message: `internal error: ${error instanceof Error ? error.message : String(error)}` });
      else response.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
