// The edge of the API against a hostile client (issue 17, finding 8): a request without a
// valid key is refused before its body is read; failed authentications are limited per client
// address, behind nginx too; the request limit is a sliding window, so a burst on either side
// of a minute boundary is one burst; the limits refuse rather than lift when Redis cannot be
// asked; the high queue and the workers' whereabouts are granted per key.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startNginx, type Nginx } from '../support/nginx';
import { freePort } from '../support/services';
import { TestStack, type Task } from '../support/stack';
import { recordScenario } from './chaos';

const key = (name: string): string => `${name}-${randomUUID().replaceAll('-', '')}`;
const PLAIN = key('plain');
const HIGH = key('high');
const ADMIN = key('admin');
const EDGE = key('edge');
const LIMIT = 10;
const FAILURES = 8;
const MINUTE = 60_000;

interface Problem {
  status: number;
  detail: string;
}
interface Queues {
  workers: Record<string, unknown>[];
}

describe('chaos: the API edge against a hostile client', () => {
  const stack = new TestStack({
    API_KEYS: `plain:${PLAIN},high:${HIGH}:high,admin:${ADMIN}:admin,edge:${EDGE}`,
    RATE_LIMIT_PER_MINUTE: String(LIMIT),
    AUTH_FAILURES_PER_MINUTE: String(FAILURES),
  });
  const as = (k: string) => ({ authorization: `Bearer ${k}` });
  let api = '';
  let nginx: Nginx | undefined;

  beforeAll(async () => {
    api = await stack.startApi();
    await stack.startWorker();
  });
  afterAll(async () => {
    await nginx?.stop();
    await stack.stop();
  });

  it('answers 401 to a request declaring a 1 MB body without reading it', async () => {
    const port = Number(new URL(api).port);
    const socket = connect(port, '127.0.0.1');
    socket.setEncoding('utf8');
    let received = '';
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(
      'POST /api/v1/tasks HTTP/1.1\r\nHost: threadline\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${1024 * 1024}\r\n\r\n`,
    );
    // Only the headers were sent: an API that reads the body first never answers.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise((_, reject) => {
        bound = setTimeout(
          () => reject(new Error(`no answer without the body; got ${JSON.stringify(received)}`)),
          30_000,
        );
      }),
    ]);
    clearTimeout(bound);
    expect(received).toMatch(/^HTTP\/1\.1 401 /);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received).toMatch(/\r\nwww-authenticate: Bearer realm="threadline"\r\n/i);
    expect(received).toMatch(/"detail":"This API needs an API key/);
  });

  it('lets only keys granted high submit to the high queue: 403 naming the rule, else 202', async () => {
    const body = { type: 'echo', data: { message: 'urgent' }, queue: 'high' };
    const refused = await stack.request<Problem>('POST', '/api/v1/tasks', body, as(PLAIN));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body.detail).toContain(
      'the high queue is granted per key in API_KEYS: name:key:high',
    );
    const accepted = await stack.request<Task>('POST', '/api/v1/tasks', body, as(HIGH));
    expect(accepted.status).toBe(202);
    expect(accepted.body.queue).toBe('high');
    const medium = await stack.request<Task>(
      'POST',
      '/api/v1/tasks',
      { ...body, queue: 'medium' },
      as(PLAIN),
    );
    expect(medium.status).toBe(202);
  });

  it("shows workers' hosts and pids to an admin key only", async () => {
    const plain = await stack.request<Queues>('GET', '/api/v1/queues', undefined, as(PLAIN));
    const admin = await stack.request<Queues>('GET', '/api/v1/queues', undefined, as(ADMIN));
    expect([plain.status, admin.status]).toEqual([200, 200]);
    expect(admin.body.workers.length).toBeGreaterThan(0);
    const worker = admin.body.workers[0] ?? {};
    expect([typeof worker.host, typeof worker.pid]).toEqual(['string', 'number']);
    expect(plain.body.workers).toHaveLength(admin.body.workers.length);
    for (const shown of plain.body.workers) {
      expect(shown).not.toHaveProperty('host');
      expect(shown).not.toHaveProperty('pid');
      expect(JSON.stringify(shown)).not.toContain(String(worker.host));
      expect(JSON.stringify(shown)).not.toContain(`:${String(worker.pid)}:`);
      expect(typeof shown.concurrency).toBe('number');
    }
  });

  it('refuses a second burst just after a minute boundary: one sliding window, not 2x', async () => {
    // Start the first burst two seconds before a minute boundary, the second just after it:
    // a fixed one-minute window counts them apart and lets both through.
    const boundary = Math.ceil((Date.now() + 3000) / MINUTE) * MINUTE;
    await sleep(boundary - 2000 - Date.now());
    const burst = () =>
      Promise.all(
        Array.from({ length: LIMIT }, () =>
          stack.request('GET', `/api/v1/tasks/${randomUUID()}`, undefined, as(EDGE)),
        ),
      );
    const first = await burst();
    expect(Date.now()).toBeLessThan(boundary);
    await sleep(boundary + 200 - Date.now());
    const second = await burst();
    const statuses = [...first, ...second].map((r) => r.status);
    expect(statuses.filter((s) => s === 404)).toHaveLength(LIMIT);
    expect(second.map((r) => r.status)).toEqual(Array(LIMIT).fill(429));

    const allowed = first[0];
    expect(allowed?.headers.get('ratelimit-policy')).toBe(`"requests";q=${LIMIT};w=60`);
    expect(allowed?.headers.get('ratelimit')).toMatch(/^"requests";r=\d+;t=\d+$/);
    const refused = second[0];
    expect(refused?.headers.get('ratelimit-policy')).toBe(`"requests";q=${LIMIT};w=60`);
    expect(refused?.headers.get('ratelimit')).toMatch(/^"requests";r=0;t=\d+$/);
    const retryAfter = Number(refused?.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((refused?.body as Problem).detail).toMatch(/RATE_LIMIT_PER_MINUTE/);
  });

  it('answers 429 to a flood of 401s from one address behind nginx, and spares the others', async () => {
    nginx = await startNginx([Number(new URL(api).port)]);
    const from = (address: string, k: string) =>
      fetch(`${nginx?.url}/api/v1/tasks/${randomUUID()}`, {
        headers: { ...as(k), 'x-forwarded-for': address },
      });
    const flood: Response[] = [];
    for (let i = 0; i < FAILURES + 4; i++) flood.push(await from('203.0.113.7', `guess${i}`));
    const statuses = flood.map((r) => r.status);
    expect(statuses.slice(0, FAILURES)).toEqual(Array(FAILURES).fill(401));
    expect(statuses.slice(FAILURES)).toEqual(Array(4).fill(429));
    const refused = flood[FAILURES];
    expect(Number(refused?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused?.headers.get('ratelimit-policy')).toBe(`"auth-failures";q=${FAILURES};w=60`);
    expect(refused?.headers.get('ratelimit')).toMatch(/^"auth-failures";r=0;t=\d+$/);
    expect(((await refused?.json()) as Problem).detail).toMatch(/AUTH_FAILURES_PER_MINUTE/);
    // A right guess from that address is refused the same way: the answer tells nothing.
    expect((await from('203.0.113.7', PLAIN)).status).toBe(429);
    // Another client behind the same nginx keeps its own count.
    expect((await from('203.0.113.8', 'guess')).status).toBe(401);
    expect((await from('203.0.113.8', PLAIN)).status).toBe(404);
  });

  it('refuses (503 with Retry-After) rather than lifting the limits when Redis cannot be asked', async () => {
    const healthy = stack.baseUrl;
    await stack.startApi({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    try {
      for (const k of [PLAIN, 'not-a-key-0123456789012345']) {
        const reply = await stack.request<Problem>(
          'GET',
          `/api/v1/traces/${randomUUID()}`,
          undefined,
          as(k),
        );
        expect(reply.status).toBe(503);
        expect(reply.headers.get('retry-after')).toBe('1');
        expect(reply.body.detail).toMatch(/rate limits cannot be checked/);
      }
      expect((await stack.request('GET', '/health')).status).toBe(200);
    } finally {
      stack.baseUrl = healthy;
    }
    recordScenario({
      scenario: 'hostile edge',
      load: `2 bursts of ${LIMIT} across a minute boundary, ${FAILURES + 4} bad keys`,
      faults: '1 MB declared and not sent, high queue without grant, Redis unreachable',
    });
  });
});
