import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TASK_TYPES } from '.';

// docs/tasks.md is where a client learns a type's input and result: step 3 of adding a type.
describe('docs/tasks.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'tasks.md'), 'utf8');
  const sections = new Set([...doc.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));

  it.each(TASK_TYPES)('documents the task type %s in a section of its own', (type) => {
    expect(sections).toContain(type);
  });
});
