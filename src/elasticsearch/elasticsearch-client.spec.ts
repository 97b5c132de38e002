import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createElasticsearchClient } from './elasticsearch-client';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }),
  );
}

describe(createElasticsearchClient.name, () => {
  let live: Server;
  let liveUrl: string;
  let deadUrl: string;

  beforeAll(async () => {
    live = createServer((_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
      });
      response.end('{"ok":true}');
    });
    liveUrl = await listen(live);
    const dead = createServer();
    deadUrl = await listen(dead);
    await new Promise((resolve) => dead.close(resolve));
  });
  afterAll(() => new Promise((resolve) => live.close(resolve)));

  const ask = async (retries: 'other-nodes' | 'none'): Promise<'answered' | 'failed'> => {
    const client = createElasticsearchClient(`${deadUrl},${liveUrl}`, {
      requestTimeoutMs: 2_000,
      retries,
    });
    try {
      return await client.transport.request({ method: 'GET', path: '/' }).then(
        () => 'answered' as const,
        () => 'failed' as const,
      );
    } finally {
      await client.close();
    }
  };

  it('sends a request the first node refuses on to the next node of the list', async () => {
    expect(await ask('other-nodes')).toBe('answered');
  });

  it('leaves retrying to the caller when asked to', async () => {
    expect(await ask('none')).toBe('failed');
  });
});
