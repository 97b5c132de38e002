// Adding a task type takes the three steps of docs/tasks.md#adding-a-type, and nothing else.
// This test copies the application, follows exactly those steps with the type in
// test/fixtures/task-types/word-count/, builds the copy as `npm run build` does, and runs its
// API and a worker on the real Redis: the new type is in the OpenAPI document, is accepted,
// is validated (422), runs, and its result and its permanent failure read back.
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/services';
import { TestStack } from '../support/stack';

const FIXTURE = join(repoRoot, 'test', 'fixtures', 'task-types', 'word-count');

interface OpenApi {
  components: {
    schemas: Record<
      string,
      { properties?: Record<string, { enum?: string[]; oneOf?: { $ref: string }[] }> }
    >;
  };
}

/** A copy of the application to add a type to: its sources, build settings and task docs. */
function copyProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'threadline-add-a-type-'));
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json']) {
    copyFileSync(join(repoRoot, file), join(root, file));
  }
  cpSync(join(repoRoot, 'src'), join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'docs'));
  copyFileSync(join(repoRoot, 'docs', 'tasks.md'), join(root, 'docs', 'tasks.md'));
  // Read, not changed: the dependencies, and the index template the API installs.
  symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'));
  symlinkSync(join(repoRoot, 'elk'), join(root, 'elk'));
  return root;
}

/** The three steps of docs/tasks.md#adding-a-type, for word_count. */
function addWordCount(root: string): void {
  // 1. Write it in src/tasks/types/<name>/.
  const folder = join(root, 'src', 'tasks', 'types', 'word-count');
  mkdirSync(folder);
  for (const file of ['word-count.data.ts', 'word-count.handler.ts']) {
    copyFileSync(join(FIXTURE, file), join(folder, file));
  }
  // 2. List it in TASK_TYPE_LIST.
  const list = join(root, 'src', 'tasks', 'types', 'index.ts');
  const source = readFileSync(list, 'utf8');
  const end = '\n] as const;';
  expect(source).toContain(end);
  writeFileSync(
    list,
    [
      "import { WordCountData } from './word-count/word-count.data';",
      "import { WordCountHandler } from './word-count/word-count.handler';",
      source.replace(
        end,
        "\n  taskType({ name: 'word_count', handler: WordCountHandler, data: WordCountData })," +
          end,
      ),
    ].join('\n'),
  );
  // 3. Document it in docs/tasks.md.
  appendFileSync(
    join(root, 'docs', 'tasks.md'),
    `\n${readFileSync(join(FIXTURE, 'tasks.md'), 'utf8')}`,
  );
}

describe('adding a task type by the steps of docs/tasks.md', () => {
  const root = copyProject();
  const stack = new TestStack({}, root);

  beforeAll(async () => {
    addWordCount(root);
    const build = spawnSync(
      process.execPath,
      [join(repoRoot, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build'],
      { cwd: root, encoding: 'utf8' },
    );
    expect({ status: build.status, output: `${build.stdout}${build.stderr}` }).toEqual({
      status: 0,
      output: '',
    });
    await stack.startApi();
    await stack.startWorker();
  }, 300_000);

  afterAll(async () => {
    await stack.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('puts the type in the OpenAPI document: its name and its data schema', async () => {
    const doc = (await stack.request<OpenApi>('GET', '/api/docs-json')).body;
    const submit = doc.components.schemas.SubmitTaskDto.properties ?? {};
    expect(submit.type.enum).toEqual(['calculate_var', 'batch_var', 'echo', 'word_count']);
    expect(submit.data.oneOf).toContainEqual({ $ref: '#/components/schemas/WordCountData' });
    expect(doc.components.schemas.WordCountData).toMatchObject({
      properties: { text: { type: 'string', minLength: 1, maxLength: 10000 } },
    });
  });

  it('documents every type the API accepts', async () => {
    const doc = (await stack.request<OpenApi>('GET', '/api/docs-json')).body;
    const tasks = readFileSync(join(root, 'docs', 'tasks.md'), 'utf8');
    const sections = [...tasks.matchAll(/^## (\S+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(
      expect.arrayContaining(doc.components.schemas.SubmitTaskDto.properties?.type.enum ?? []),
    );
  });

  it('accepts a task of the type, runs it on a worker and gives its result', async () => {
    const task = await stack.submit('word_count', { text: 'one two  three' });
    expect(task).toMatchObject({ type: 'word_count', status: 'queued' });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', result: { words: 3, attempt: 1 } });
  });

  it('refuses bad input with a 422 problem naming the field', async () => {
    const reply = await stack.request<{ errors: { pointer: string; detail: string }[] }>(
      'POST',
      '/api/v1/tasks',
      { type: 'word_count', data: { text: 42 } },
    );
    expect(reply.status).toBe(422);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.body.errors).toContainEqual({ pointer: '/data/text', detail: 'must be a string' });
  });

  it('fails a task at once, without retrying, when its handler throws PermanentTaskError', async () => {
    const task = await stack.submit('word_count', { text: '   ' });
    const done = await stack.until(task.task_id, ['completed', 'failed']);
    expect(done).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { type: 'UnrecoverableError', message: 'the text has no words to count' },
    });
  });
});
