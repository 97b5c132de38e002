/**
 * Every `event.action` a Threadline line carries: what happened, in one word a search can
 * filter on. The trace builder reads them, the Kibana objects (kibana-dashboards/) and nginx's
 * access line (elk/nginx/nginx.conf.template) name them; a unit spec checks those against this
 * list.
 *
 * An ES module (`.mts`) with no imports, so that the trace page's browser script can import it
 * as well as Node (`require` of an ES module).
 * @see docs/logging.md
 */
export const EVENT_ACTION = {
  /** One HTTP request answered: the API's line, and nginx's access line. */
  httpRequest: 'http-request',
  /** An inbound ID header failed validation and was replaced (`request.replaced_header`). */
  idReplaced: 'id-replaced',
  /** A task was submitted and put on its queue. */
  taskQueued: 'task-queued',
  /** A submit with an `Idempotency-Key` seen before, answered with the task it already made. */
  taskReplayed: 'task-replayed',
  /** A worker began an attempt. */
  taskStarted: 'task-started',
  /** A running task reported progress (`task.progress`). */
  taskProgress: 'task-progress',
  /** An attempt succeeded. */
  taskCompleted: 'task-completed',
  /** An attempt finished but its completion could not be recorded: it may run again. */
  taskCompletionLost: 'task-completion-lost',
  /** An attempt failed and the task goes back to its queue for another. */
  taskRetried: 'task-retried',
  /** An attempt failed and the task will not run again. */
  taskFailed: 'task-failed',
  /** A task lost its worker and goes back to its queue. */
  taskStalled: 'task-stalled',
  /** The queue dashboard (Bull Board) is off: API keys are on, and it would show every key's tasks. */
  queueDashboardOff: 'queue-dashboard-off',
  /** The log data stream's index template was installed. */
  esTemplateInstalled: 'es-template-installed',
  /** The index template could not be installed; it is tried again. */
  esTemplateFailed: 'es-template-failed',
  /** The log shipper could not deliver to Elasticsearch (first failure, then every minute). */
  logShippingFailed: 'log-shipping-failed',
  /** The log shipper delivered the whole backlog after failing. */
  logShippingRecovered: 'log-shipping-recovered',
  /** The log spool passed a share of its bound. */
  logSpoolFilling: 'log-spool-filling',
  /** Lines were not spooled: the spool was full, or the disk refused. */
  logLinesDropped: 'log-lines-dropped',
  /** The disk takes spool writes again. */
  logSpoolResumed: 'log-spool-resumed',
  /** Elasticsearch refused a line for good; it was kept in the dead-letter file. */
  logLineDeadLettered: 'log-line-dead-lettered',
  /** A refused line could not be kept in the dead-letter file. */
  logDeadLetterDropped: 'log-dead-letter-dropped',
  /** A process took over a spool left behind by a stopped one. */
  logSpoolAdopted: 'log-spool-adopted',
  /** Another process took this one's spool (it missed its lease). */
  logSpoolTaken: 'log-spool-taken',
  /** The spool's lease could not be renewed. */
  logSpoolLeaseFailed: 'log-spool-lease-failed',
} as const;

export type EventAction = (typeof EVENT_ACTION)[keyof typeof EVENT_ACTION];

/** The values of {@link EVENT_ACTION}, for checks and lists. */
export const EVENT_ACTIONS: readonly EventAction[] = Object.values(EVENT_ACTION);
