// A test stack as an operator would run it: the API and a worker behind a real nginx, the
// app shipping its own lines and rsyslog shipping nginx's, all into TEST_DATA_STREAM.
import { startNginx, type Nginx } from './nginx';
import { startRsyslog, type Rsyslog } from './rsyslog';
import { ELASTICSEARCH_URL, eventually } from './services';
import { TEST_DATA_STREAM, type TestStack } from './stack';

export interface ShippedStack {
  nginx: Nginx;
  rsyslog: Rsyslog;
  /** Stops rsyslog, nginx and the stack's processes. */
  stop(): Promise<void>;
}

export async function startShippedStack(stack: TestStack): Promise<ShippedStack> {
  await stack.startApi();
  await stack.startWorker();
  await eventually(
    () => Promise.resolve(stack.allOutput().includes('es-template-installed') || undefined),
    'the API to install the index template',
  );
  const nginx = await startNginx([Number(new URL(stack.baseUrl).port)]);
  const rsyslog = await startRsyslog({
    accessLog: nginx.accessLog,
    elasticsearchUrl: ELASTICSEARCH_URL,
    dataStream: TEST_DATA_STREAM,
  });
  return {
    nginx,
    rsyslog,
    stop: async () => {
      await rsyslog.stop();
      await nginx.stop();
      await stack.stop();
    },
  };
}
