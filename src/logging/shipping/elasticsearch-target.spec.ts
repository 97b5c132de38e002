import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ElasticsearchTarget, bulkBody } from './elasticsearch-target';
import { TargetRequestError } from './shipping-target';

/** An HTTP server answering `_bulk` as Elasticsearch does; counts the requests it took. */
interface FakeNode {
  url: string;
  bulks: number;
  /** The last `_bulk` body it took. */
  body: string;
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
  const node: FakeNode = { url: '', bulks: 0, body: '', server: createServer() };
  node.server.on('request', (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url?.includes('/_bulk')) {
        node.bulks += 1;
        node.body = Buffer.concat(chunks).toString();
      }
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

const ENTRY = { id: 'a', document: Buffer.from('{"message":"x"}') };

describe(ElasticsearchTarget.name, () => {
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
    const target = new ElasticsearchTarget(
      [dead, ...live.map((n) => n.url)].join(','),
      'logs-threadline-test',
      'worker',
      2_000,
    );
    const outcomes: ('stored' | 'failed')[] = [];
    try {
      for (let attempt = 0; attempt < 30; attempt++) {
        const result = await target.send([ENTRY]).then(
          () => 'stored' as const,
          (error: unknown) => {
            expect(error).toBeInstanceOf(TargetRequestError);
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
    const target = new ElasticsearchTarget(
      'http://user:secret@10.0.0.1:9200, http://10.0.0.2:9200',
      'logs-threadline-test',
      'api',
    );
    await target.close();
    expect(target.description).toBe(
      'logs-threadline.{api,worker,nginx}-test at http://10.0.0.1:9200, http://10.0.0.2:9200',
    );
  });

  it('frames entries as _bulk create actions into their streams with their ids, each followed by its document', async () => {
    const [node] = live;
    const target = new ElasticsearchTarget(node?.url ?? '', 'logs-threadline-test', 'api');
    const worker = {
      id: 'w',
      document: Buffer.from(
        '{"data_stream.dataset":"threadline.worker","task.input":{"data_stream.dataset":"threadline.nginx"}}',
      ),
    };
    const stranger = { id: 's', document: Buffer.from('{"data_stream.dataset":"other.app"}') };
    try {
      // This node answers one item whatever it was sent: the body is what is checked.
      await target.send([ENTRY, worker, stranger]);
    } finally {
      await target.close();
    }
    // A line of another source (left in the spool by a worker) goes to its stream; a line
    // without a dataset (spooled before lines had one), or with one not ours, where lines went
    // before: the family's own stream.
    expect(node?.body).toBe(
      [
        '{"create":{"_index":"logs-threadline-test","_id":"a"}}',
        '{"message":"x"}',
        '{"create":{"_index":"logs-threadline.worker-test","_id":"w"}}',
        worker.document.toString(),
        '{"create":{"_index":"logs-threadline-test","_id":"s"}}',
        stranger.document.toString(),
        '',
      ].join('\n'),
    );
    const two = bulkBody([ENTRY, { id: 'b"2', document: Buffer.from('{"n":2}') }]).toString();
    expect(two).toBe(
      '{"create":{"_id":"a"}}\n{"message":"x"}\n{"create":{"_id":"b\\"2"}}\n{"n":2}\n',
    );
  });

  it('says lines wait, and how to install the template, while there is no data stream', async () => {
    const bare = createServer((_request, response) => {
      response.writeHead(404, { 'x-elastic-product': 'Elasticsearch' });
      response.end();
    });
    const target = new ElasticsearchTarget(await listen(bare), 'logs-threadline-test', 'worker');
    try {
      const missing = await target.missing();
      expect(missing).toContain(
        'no index template or data stream for logs-threadline.{api,worker,nginx}-test',
      );
      expect(missing).toContain('npm run es:setup');
    } finally {
      await target.close();
      await new Promise((resolve) => bare.close(resolve));
    }
  });

  // Elastic's built-in `logs` template (logs-*-*) matches every logs stream, and an older
  // Threadline template named the same matched the family's stream alone: neither will do.
  it("waits for Threadline's own template to cover this process's stream", async () => {
    let patterns: string[] = [];
    const node = createServer((request, response) => {
      const template = request.method === 'GET' && request.url?.startsWith('/_index_template/');
      response.writeHead(template ? 200 : 404, {
        'x-elastic-product': 'Elasticsearch',
        'content-type': 'application/json',
      });
      response.end(
        template
          ? JSON.stringify({
              index_templates: [
                { name: 'logs-threadline-test', index_template: { index_patterns: patterns } },
              ],
            })
          : '',
      );
    });
    const target = new ElasticsearchTarget(await listen(node), 'logs-threadline-test', 'worker');
    try {
      patterns = ['logs-threadline-test'];
      expect(await target.missing()).toContain('npm run es:setup');
      patterns = ['logs-threadline.worker-test', 'logs-threadline-test'];
      expect(await target.missing()).toBeUndefined();
    } finally {
      await target.close();
      await new Promise((resolve) => node.close(resolve));
    }
  });
});
