// A spool that fills up while Elasticsearch is away drops new lines, counts and reports the
// drop, and the API goes on answering.
import { eventually, freePort } from '../support/services';
import { TestStack } from '../support/stack';

interface ShippingCheck {
  state: string;
  dropped: number;
  spool_bytes: number;
}

describe('log spool bound', () => {
  const stack = new TestStack({ LOG_SPOOL_MAX_BYTES: '16384', LOG_LEVEL: 'info' });

  beforeAll(async () => {
    // Nothing listens there: every delivery fails, as when Elasticsearch is down.
    stack.env.ELASTICSEARCH_URL = `http://127.0.0.1:${await freePort()}`;
    await stack.startApi();
  });
  afterAll(() => stack.stop());

  it('counts and logs the overflow, and the API keeps answering', async () => {
    for (let i = 0; i < 100; i++) {
      const reply = await stack.request('GET', '/api/v1/queues');
      expect(reply.status).toBe(200);
    }
    const shipping = await eventually(async () => {
      const ready = await stack.request<{ checks: { log_shipping: ShippingCheck } }>(
        'GET',
        '/ready',
      );
      const check = ready.body.checks.log_shipping;
      return check.dropped > 0 && check.state === 'failing' ? check : undefined;
    }, 'the drop to be counted');
    expect(shipping.spool_bytes).toBeLessThanOrEqual(16384);
    const report = stack.logLines().find((line) => line['event.action'] === 'log-lines-dropped');
    expect(report?.message).toMatch(
      /log spool is full \(LOG_SPOOL_MAX_BYTES=16384\): dropped \d+ lines/,
    );
    // stdout, the first sink, still gets every line.
    const requests = await eventually(() => {
      const lines = stack.logLines().filter((line) => line['url.path'] === '/api/v1/queues');
      return Promise.resolve(lines.length >= 100 ? lines : undefined);
    }, 'every request line on stdout');
    expect(requests).toHaveLength(100);
  });
});
