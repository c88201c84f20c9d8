import type { Server } from 'node:http';

/** Starts `server` on a free port of 127.0.0.1 and returns its base URL, `http://127.0.0.1:<port>`. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the test server has no TCP address');
  return `http://127.0.0.1:${address.port}`;
}

/** Closes `server`, cutting the connections still open (keep-alive, a delayed answer). */
export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}
