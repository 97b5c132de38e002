// The script of the threads that compute VaR (see CalculateVarHandler): off the event loop
// that renews the worker's locks and runs its other tasks.
import { serveThreadTasks } from '../../../threads/thread-protocol';
import { computeVar } from './value-at-risk';
import type { VarRequest } from './var-request';

serveThreadTasks((input, progress) => computeVar(input as VarRequest, progress));
