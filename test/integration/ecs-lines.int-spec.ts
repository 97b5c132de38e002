// The Elastic Common Schema, checked on lines the process's real logger writes (the e2e suite
// checks the lines nginx, the API and the worker ship: test/logshipping/search.e2e-spec.ts).
import { flowContext } from '../../src/context/flow-context';
import { continueTrace } from '../../src/context/ids';
import { ECS_SCHEMA_VERSION, ecsProblems } from '../support/ecs';
import { MemoryLog } from '../support/in-process';

describe(`lines against the ECS ${ECS_SCHEMA_VERSION} field definitions`, () => {
  it('finds what breaks ECS: a wrong type, a field of its own namespace it lacks, a dataset apart', () => {
    expect(
      ecsProblems({
        'http.response.status_code': '200',
        'http.request.headers': { host: 'x' },
        'event.outcome': 'maybe',
        'event.dataset': 'threadline.api',
        'data_stream.dataset': 'threadline.worker',
        'task.input': { anything: ['goes'] },
        request_id: null,
      }),
    ).toEqual([
      'http.response.status_code: "200" is not a value of ECS type long',
      `http.request.headers.host: not an ECS ${ECS_SCHEMA_VERSION} field, but in ECS's own namespace "http": move it to a custom one`,
      'event.outcome: "maybe" is not one of ECS\'s allowed values (failure, success, unknown)',
      'event.dataset "threadline.api" is not data_stream.dataset "threadline.worker"',
    ]);
  });

  it.each(['threadline-api', 'threadline-worker'] as const)(
    "%s: a stamped line, with an error, fits ECS and names its dataset's data stream",
    (service) => {
      const log = new MemoryLog(service, 'info');
      const context = {
        request_id: 'req-1',
        correlation_id: 'flow-1',
        task_id: 'task-1',
        trace: continueTrace(undefined).trace,
        owner: 'alice',
        task: { type: 'echo', queue: 'medium', attempt: 2, parent_id: 'parent-1' },
      };
      flowContext.run(context, () =>
        log.logger.error(
          {
            'event.action': 'task-failed',
            'event.duration': 1_500_000,
            'error.type': 'InjectedFailureError',
            err: new Error('injected'),
            'task.run_ms': 1,
          },
          'task task-1 failed',
        ),
      );
      const [line] = log.lines;
      expect(ecsProblems(line)).toEqual([]);
      const dataset = service === 'threadline-api' ? 'threadline.api' : 'threadline.worker';
      expect(line).toMatchObject({
        'event.dataset': dataset,
        'data_stream.type': 'logs',
        'data_stream.dataset': dataset,
        'data_stream.namespace': 'default',
        'service.name': service,
      });
    },
  );
});
