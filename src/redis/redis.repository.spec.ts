import { isConnectionError, isRedirection } from './redis.repository';

describe(isConnectionError.name, () => {
  it.each([
    'connect ECONNREFUSED 127.0.0.1:6379',
    'Connection is closed.',
    // A pipeline (BullMQ's, or WAIT on a cluster) in flight when its connection dropped:
    'Command aborted due to connection close',
    "Stream isn't writeable and enableOfflineQueue options is false",
    'CLUSTERDOWN The cluster is down',
    "READONLY You can't write against a read only replica.",
    // ioredis Cluster, while a master's replica is being promoted:
    "Cluster isn't ready and enableOfflineQueue options is false",
    'Failed to refresh slots cache.',
    'Too many Cluster redirections. Last error: Error: Connection is closed.',
    'None of startup nodes is available',
    'Node is disconnected',
  ])('takes "%s" for Redis being unavailable (503)', (message) => {
    expect(isConnectionError(new Error(message))).toBe(true);
  });

  it.each([
    'ERR wrong number of arguments for command',
    'WRONGTYPE Operation against a key holding the wrong kind of value',
    'Missing key for job 1. moveToFinished',
  ])('leaves "%s" to be a 500: our bug, not an outage', (message) => {
    expect(isConnectionError(new Error(message))).toBe(false);
  });
});

describe(isRedirection.name, () => {
  it.each(['MOVED 10512 127.0.0.1:7401', 'ASK 10512 127.0.0.1:7401'])(
    'takes "%s" for a slot served elsewhere, where the script did not run',
    (message) => {
      expect(isRedirection(new Error(message))).toBe(true);
    },
  );

  it.each(['ERR WAIT cannot be used with replica instances', 'NOSCRIPT No matching script'])(
    'leaves "%s" alone',
    (message) => {
      expect(isRedirection(new Error(message))).toBe(false);
    },
  );
});
