// The threadline CLI as a new user meets it: --version and --help, and `threadline task`
// against a real API with API keys on, as docker compose runs it, and against an API that is
// away or failing. Its exit codes are a contract: scripts branch on them (docs/trace.md).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { threadline } from '../support/cli';
import { freePort, repoRoot } from '../support/services';
import { TestStack, type Task } from '../support/stack';

const KEY = `cli-${randomUUID().replaceAll('-', '')}`;

/** A real HTTP server on loopback that answers every request with `status` and a problem. */
async function answering(status: number, detail: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/problem+json' });
    response.end(JSON.stringify({ status, title: 'Failing', detail }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server };
}

describe('threadline CLI', () => {
  it('prints the package version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const run = await threadline([flag]);
      expect({ flag, status: run.status, stdout: run.stdout }).toEqual({
        flag,
        status: 0,
        stdout: `${version}\n`,
      });
    }
  });

  it('names in --help the variables and the version flag a user needs', async () => {
    const run = await threadline(['--help']);
    expect(run.status).toBe(0);
    for (const text of ['THREADLINE_API_URL', 'THREADLINE_API_KEY', '--version']) {
      expect(run.stdout).toContain(text);
    }
  });

  describe('task, against an API with API keys on', () => {
    const stack = new TestStack({ API_KEYS: `cli:${KEY}` });
    let task: Task;
    let env: Record<string, string>;

    beforeAll(async () => {
      await stack.startApi();
      env = { THREADLINE_API_URL: stack.baseUrl, THREADLINE_API_KEY: KEY };
      const reply = await stack.request<Task>(
        'POST',
        '/api/v1/tasks',
        { type: 'echo', data: { message: 'hello' } },
        { authorization: `Bearer ${KEY}` },
      );
      expect(reply.status).toBe(202);
      task = reply.body;
    });
    afterAll(() => stack.stop());

    it('sends THREADLINE_API_KEY and prints the task', async () => {
      const run = await threadline(['task', task.task_id], env);
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ task_id: task.task_id, status: 'queued' });
    });

    it('exits 4 naming THREADLINE_API_KEY when the key is missing or wrong', async () => {
      for (const key of [undefined, 'not-the-key-0123456789abcdef']) {
        const run = await threadline(['task', task.task_id], {
          THREADLINE_API_URL: stack.baseUrl,
          ...(key === undefined ? {} : { THREADLINE_API_KEY: key }),
        });
        expect({ key, status: run.status }).toEqual({ key, status: 4 });
        expect(run.stderr).toContain('THREADLINE_API_KEY');
        expect(run.stdout).toBe('');
      }
    });

    it('exits 1 for a task the API does not know, 2 for an ID that cannot be one', async () => {
      const missing = await threadline(['task', randomUUID()], env);
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('No task');
      const bad = await threadline(['task', 'not-a-task-id'], env);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain('UUID');
    });
  });

  it('exits 3 when the API is away, naming THREADLINE_API_URL', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await threadline(['task', randomUUID()], { THREADLINE_API_URL: url });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(url);
    expect(run.stderr).toContain('THREADLINE_API_URL');
  });

  it.each([500, 503, 429])('exits 3 when the API answers %i, with its detail', async (status) => {
    const detail = `failing on purpose ${randomUUID()}`;
    const { url, server } = await answering(status, detail);
    try {
      const run = await threadline(['task', randomUUID()], { THREADLINE_API_URL: url });
      expect(run.status).toBe(3);
      expect(run.stderr).toContain(String(status));
      expect(run.stderr).toContain(detail);
      expect(run.stdout).toBe('');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('exits 2 for a THREADLINE_API_URL that is not an http(s) URL', async () => {
    const run = await threadline(['task', randomUUID()], { THREADLINE_API_URL: 'localhost:3000' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('THREADLINE_API_URL');
  });
});
