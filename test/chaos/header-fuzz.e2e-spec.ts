// Hostile ID headers: X-Request-ID, X-Correlation-ID, traceparent and Idempotency-Key with
// random content (quotes, JSON and log syntax, obs-text, forged traceparents; in one value of
// ten also control characters HTTP forbids), random lengths up to 8 KiB, repeated headers and
// empty ones, over raw sockets so that nothing in the client cleans them up first. The API never answers 5xx, and every line it writes stays one valid
// JSON document with string IDs.
import { connect } from 'node:net';
import { TestStack } from '../support/stack';
import { recordScenario, scaled } from './chaos';

const REQUESTS = scaled(3_000, 400);
const HEADERS = ['X-Request-ID', 'X-Correlation-ID', 'traceparent', 'Idempotency-Key'];

/** A small deterministic PRNG (mulberry32), so that a failure can be replayed by its seed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hostile content HTTP allows in a header value: quotes, JSON, log and template syntax. */
const ALLOWED_PIECES = [
  '"',
  '\\',
  '{"a":1}',
  '"}, "request_id": "forged',
  '\t',
  ' ',
  '%0a',
  '${jndi:ldap://x}',
  '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  'ff-ffffffffffffffffffffffffffffffff-ffffffffffffffff-ff',
  '00-00000000000000000000000000000000-0000000000000000-01',
  '<script>',
  '\u00e9',
  '\u00ff',
];
/** What HTTP forbids in a header value: the server must refuse it cleanly (400), not crash. */
const FORBIDDEN_PIECES = ['\n', '\r\n', '\u0000', '\u001b[31m', '\r'];

/** A character HTTP allows in a header value: tab, visible ASCII, space, or obs-text. */
function allowedChar(random: () => number): string {
  const r = random();
  if (r < 0.05) return '\t';
  if (r < 0.8) return String.fromCharCode(0x20 + Math.floor(random() * 95));
  return String.fromCharCode(0x80 + Math.floor(random() * 128));
}

function value(random: () => number): string {
  const length = random() < 0.1 ? Math.floor(random() * 8192) : Math.floor(random() * 80);
  const hostile = random() < 0.1;
  let out = '';
  while (out.length < length) {
    const r = random();
    out +=
      hostile && r < 0.05
        ? FORBIDDEN_PIECES[Math.floor(random() * FORBIDDEN_PIECES.length)]
        : r < 0.3
          ? ALLOWED_PIECES[Math.floor(random() * ALLOWED_PIECES.length)]
          : allowedChar(random);
  }
  return out.slice(0, length);
}

/** Sends one raw request and resolves with the status code (0 when the server hung up). */
function raw(port: number, head: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]));
    });
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
  });
}

describe('chaos: fuzzed ID headers', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info' });
  beforeAll(() => stack.startApi({ LOG_LEVEL: 'info' }));
  afterAll(() => stack.stop());

  it(`never answers 5xx and never breaks a log line, over ${REQUESTS} requests`, async () => {
    const port = Number(new URL(stack.baseUrl).port);
    const random = prng(20_261_128);
    const statuses = new Map<number, number>();
    const fivexx: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const headers = HEADERS.filter(() => random() < 0.6).flatMap((name) =>
        Array.from({ length: random() < 0.1 ? 2 : 1 }, () => `${name}: ${value(random)}`),
      );
      const route = i % 3;
      const body =
        route === 0 ? JSON.stringify({ type: 'echo', data: { message: `fuzz ${i}` } }) : '';
      const path =
        route === 0
          ? 'POST /api/v1/tasks'
          : route === 1
            ? 'GET /api/v1/tasks/00000000-0000-4000-8000-000000000000'
            : 'GET /health';
      const head = [
        `${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Connection: close',
        ...(body ? ['Content-Type: application/json', `Content-Length: ${body.length}`] : []),
        ...headers,
        '',
        '',
      ].join('\r\n');
      const status = await raw(port, head, body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 500) fivexx.push(`${status} for ${JSON.stringify(head)}`);
    }

    const text = stack.api?.stdout() ?? '';
    const lines = text
      .slice(0, text.lastIndexOf('\n') + 1)
      .split('\n')
      .filter(Boolean);
    const broken = lines.filter((line) => {
      try {
        const doc = JSON.parse(line) as Record<string, unknown>;
        return ['request_id', 'correlation_id', 'task_id'].some(
          (field) =>
            doc[field] !== null && doc[field] !== undefined && typeof doc[field] !== 'string',
        );
      } catch {
        return true;
      }
    });
    recordScenario({
      scenario: 'header fuzzing',
      load: `${REQUESTS} requests with random ID headers`,
      faults: [...statuses].map(([status, n]) => `${n}× ${status || 'hung up'}`).join(', '),
    });

    expect(fivexx).toEqual([]);
    expect(statuses.get(0) ?? 0).toBe(0);
    expect(broken).toEqual([]);
    // Most requests carry values HTTP allows, so they reach the API and are logged.
    expect(lines.length).toBeGreaterThan(REQUESTS / 2);
  }, 600_000);
});
