// The queue names are declared with the configuration, which validates WORKER_QUEUES against
// them (config imports no feature); the queue code takes them from here.
export { DEFAULT_QUEUE, isTaskQueue, TASK_QUEUES, type TaskQueue } from '../config/queue-names';
