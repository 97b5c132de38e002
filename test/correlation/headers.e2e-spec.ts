// Hostile ID headers get a generated ID and one well-formed line saying so; their raw value
// is never written anywhere, and no answer is a 5xx. Secrets never reach a line.
import { connect } from 'node:net';
import { startNginx, type Nginx } from '../support/nginx';
import { eventually } from '../support/services';
import { TestStack } from '../support/stack';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Sends raw bytes as an HTTP request (fetch refuses many of these headers itself). */
function rawRequest(
  port: number,
  head: Buffer,
): Promise<{ status: number; headers: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [statusLine, ...lines] = data.split('\r\n\r\n')[0].split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(':');
        headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers });
    });
  });
}

function request(header: string, value: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `GET /api/v1/queues HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${header}: `,
    ),
    value,
    Buffer.from('\r\n\r\n'),
  ]);
}

/** Waits until the API has written the access line of the request with this ID. */
function accessLine(stack: TestStack, requestId: string): Promise<Record<string, unknown>> {
  return eventually(
    () =>
      Promise.resolve(
        stack
          .logLines()
          .find((l) => l.request_id === requestId && l['event.action'] === 'http-request'),
      ),
    'the access line',
  );
}

describe('hostile ID headers', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info' });
  let port: number;
  let nginx: Nginx;

  beforeAll(async () => {
    await stack.startApi();
    port = Number(new URL(stack.baseUrl).port);
    nginx = await startNginx([port]);
  });
  afterAll(async () => {
    await nginx.stop();
    await stack.stop();
  });

  const marker = 'RAWVALUE';
  const cases: [string, Buffer][] = [
    ['percent-encoded CR/LF', Buffer.from(`${marker}%0d%0aX-Injected:%201`)],
    ['10 KB', Buffer.from(marker + 'a'.repeat(10 * 1024))],
    ['non-ASCII', Buffer.from(`${marker}-é-日本`, 'utf8')],
    ['a JSON fragment', Buffer.from(`{"${marker}":"x","level":"fatal"}`)],
    ['spaces and quotes', Buffer.from(`${marker} "quoted" value`)],
    ['a bare carriage return', Buffer.from(`${marker}\rX-Injected: 1`)],
    ['empty', Buffer.from('')],
  ];

  it.each(cases)(
    'X-Request-ID %s: a generated ID, one line saying so, no raw value, no 5xx',
    async (_name, value) => {
      const before = stack.logLines().length;
      const reply = await rawRequest(port, request('X-Request-ID', value));
      expect(reply.status).toBeLessThan(500);
      if (reply.status === 200) {
        expect(reply.headers['x-request-id']).toMatch(UUID);
        const requestId = reply.headers['x-request-id'];
        await accessLine(stack, requestId);
        const mine = stack
          .logLines()
          .slice(before)
          .filter((l) => l.request_id === requestId);
        expect(mine.filter((l) => l['event.action'] === 'id-replaced')).toEqual([
          expect.objectContaining({
            'log.level': 'warn',
            'request.replaced_header': 'x-request-id',
          }),
        ]);
        expect(mine.filter((l) => l['event.action'] === 'http-request')).toHaveLength(1);
      } else {
        // Node's HTTP parser refuses a bare CR itself: a 400 before any of our code runs.
        expect(reply.status).toBe(400);
      }
      expect(stack.allOutput()).not.toContain(marker);
    },
  );

  it.each(cases)(
    'X-Correlation-ID %s: replaced by the request ID, never written',
    async (_name, value) => {
      const reply = await rawRequest(port, request('X-Correlation-ID', value));
      expect(reply.status).toBeLessThan(500);
      if (reply.status === 200)
        expect(reply.headers['x-correlation-id']).toBe(reply.headers['x-request-id']);
      expect(stack.allOutput()).not.toContain(marker);
    },
  );

  it('an invalid traceparent starts a new trace, and the line says so', async () => {
    const reply = await fetch(`${stack.baseUrl}/api/v1/queues`, {
      headers: { traceparent: `00-${marker}-zz-01` },
    });
    expect(reply.status).toBe(200);
    const requestId = reply.headers.get('x-request-id');
    await accessLine(stack, requestId ?? '');
    const mine = stack.logLines().filter((l) => l.request_id === requestId);
    expect(mine.find((l) => l['event.action'] === 'id-replaced')).toMatchObject({
      'request.replaced_header': 'traceparent',
    });
    expect(mine.every((l) => /^[0-9a-f]{32}$/.test(String(l['trace.id'])))).toBe(true);
    expect(stack.allOutput()).not.toContain(marker);
  });

  it('nginx keeps a valid ID, replaces an invalid one with its own, and refuses a 10 KB header with a 4xx', async () => {
    const kept = await fetch(`${nginx.url}/api/v1/queues`, {
      headers: { 'X-Request-ID': 'nginx-kept-1' },
    });
    expect(kept.headers.get('x-request-id')).toBe('nginx-kept-1');

    const replaced = await rawRequest(
      Number(new URL(nginx.url).port),
      request('X-Request-ID', Buffer.from(`${marker}{"json":1}`)),
    );
    expect(replaced.status).toBe(200);
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const line = await eventually(
      () =>
        Promise.resolve(
          nginx.lines().find((l) => l.request_id === replaced.headers['x-request-id']),
        ),
      'the nginx line',
    );
    expect(line).toMatchObject({ request_id_replaced: true, 'http.response.status_code': 200 });

    const huge = await rawRequest(
      Number(new URL(nginx.url).port),
      request('X-Request-ID', Buffer.from(marker + 'a'.repeat(10 * 1024))),
    );
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    const accessLog = nginx
      .lines()
      .map((l) => JSON.stringify(l))
      .join('\n');
    expect(accessLog).not.toContain(marker);
  });
});

describe('secrets', () => {
  const stack = new TestStack({ LOG_LEVEL: 'info' });

  beforeAll(async () => {
    await stack.startApi();
    await stack.startWorker();
  });
  afterAll(() => stack.stop());

  it('shows a secret in a header or in task data as [Redacted] in every line', async () => {
    const response = await fetch(`${stack.baseUrl}/api/v1/tasks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer header-secret-1',
        'x-api-key': 'header-secret-2',
        cookie: 'session=header-secret-3',
      },
      body: JSON.stringify({
        type: 'echo',
        data: {
          message: {
            password: 'data-secret-1',
            nested: { api_key: 'data-secret-2', access_token: 'data-secret-3' },
            note: 'visible',
          },
        },
      }),
    });
    expect(response.status).toBe(202);
    const { task_id } = (await response.json()) as { task_id: string };
    await eventually(
      () =>
        Promise.resolve(
          stack
            .logLines()
            .some((l) => l.task_id === task_id && l['event.action'] === 'task-completed')
            ? true
            : undefined,
        ),
      'the task to complete',
    );

    const output = stack.allOutput();
    for (const secret of [
      'header-secret-1',
      'header-secret-2',
      'header-secret-3',
      'data-secret-1',
      'data-secret-2',
      'data-secret-3',
    ]) {
      expect(output).not.toContain(secret);
    }
    const lines = stack.logLines().filter((l) => l.task_id === task_id);
    const access = lines.find((l) => l['event.action'] === 'http-request');
    expect(access?.['request.headers']).toMatchObject({
      authorization: '[Redacted]',
      'x-api-key': '[Redacted]',
      cookie: '[Redacted]',
    });
    const queued = lines.find((l) => l['event.action'] === 'task-queued');
    expect(queued?.['task.input']).toEqual({
      message: {
        password: '[Redacted]',
        nested: { api_key: '[Redacted]', access_token: '[Redacted]' },
        note: 'visible',
      },
    });
  });
});
