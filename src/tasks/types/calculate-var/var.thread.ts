// The script of the threads that compute VaR (see CalculateVarHandler): off the event loop
// that renews the worker's locks and runs its other tasks.
import { serveThreadTasks } from '../../../threads/thread-protocol';
import { computeVar, type VarRequest } from './value-at-risk';

serveThreadTasks((input, progress) => computeVar(input as VarRequest, progress));
