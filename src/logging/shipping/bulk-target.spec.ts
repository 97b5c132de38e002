import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BulkRequestError, ElasticsearchBulkTarget } from './bulk-target';

/** An HTTP server answering `_bulk` as Elasticsearch does; counts the requests it took. */
interface FakeNode {
  url: string;
  bulks: number;
  server: Server;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }),
  );
}

async function fakeNode(): Promise<FakeNode> {
  const node: FakeNode = { url: '', bulks: 0, server: createServer() };
  node.server.on('request', (request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.url?.includes('/_bulk')) node.bulks += 1;
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
      });
      response.end(JSON.stringify({ items: [{ create: { status: 201 } }] }));
    });
  });
  node.url = await listen(node.server);
  return node;
}

/** The URL of a node that is down: a port that was just free and is closed again. */
async function deadNode(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

const ENTRY = Buffer.from('{"create":{"_id":"a"}}\n{"message":"x"}\n');

describe(ElasticsearchBulkTarget.name, () => {
  let live: FakeNode[];
  let dead: string;

  beforeAll(async () => {
    live = [await fakeNode(), await fakeNode()];
    dead = await deadNode();
  });
  afterAll(async () => {
    for (const node of live) await new Promise((resolve) => node.server.close(resolve));
  });

  // The shipper's client does not retry (the shipper does, from its spool): what matters is
  // that the attempt after a refused one goes to a node that is up.
  it('sends the attempt after a failure to another node of ELASTICSEARCH_URL', async () => {
    const target = new ElasticsearchBulkTarget(
      [dead, ...live.map((n) => n.url)].join(','),
      'logs-threadline-test',
      2_000,
    );
    const outcomes: ('stored' | 'failed')[] = [];
    try {
      for (let attempt = 0; attempt < 30; attempt++) {
        const result = await target.bulk(ENTRY).then(
          () => 'stored' as const,
          (error: unknown) => {
            expect(error).toBeInstanceOf(BulkRequestError);
            return 'failed' as const;
          },
        );
        outcomes.push(result);
      }
    } finally {
      await target.close();
    }
    // The first node listed is tried first: this test does reach the dead one.
    expect(outcomes[0]).toBe('failed');
    const afterFailure = outcomes.filter((_, i) => i > 0 && outcomes[i - 1] === 'failed');
    expect(afterFailure).not.toContain('failed');
    // A node marked dead is tried again only now and then.
    expect(outcomes.filter((o) => o === 'failed').length).toBeLessThanOrEqual(3);
    expect(live.map((n) => n.bulks > 0)).toEqual([true, true]);
  });

  it('names every node, without credentials, in its description', async () => {
    const target = new ElasticsearchBulkTarget(
      'http://user:secret@10.0.0.1:9200, http://10.0.0.2:9200',
      'logs-threadline-test',
    );
    await target.close();
    expect(target.description).toBe(
      'logs-threadline-test at http://10.0.0.1:9200, http://10.0.0.2:9200',
    );
  });
});
