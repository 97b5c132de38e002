import { taskLinks } from './task-view.dto';

describe('taskLinks', () => {
  it('links a task to itself and to its trace', () => {
    expect(taskLinks('t-1')).toEqual({ self: '/api/v1/tasks/t-1', trace: '/api/v1/traces/t-1' });
  });

  it("adds the task's lifecycle in Kibana when KIBANA_URL is set", () => {
    expect(taskLinks('t-1', 'https://kibana.example/').kibana).toBe(
      "https://kibana.example/app/discover#/view/threadline-task-lifecycle-by-task-id?_g=(time:(from:now-7d,to:now))&_a=(query:(language:lucene,query:'task_id:%22t-1%22'))",
    );
  });
});
