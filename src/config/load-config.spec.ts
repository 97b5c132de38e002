import { AppConfig } from './app-config';
import { InvalidConfigError } from './invalid-config.error';
import { loadConfig } from './load-config';

describe(loadConfig.name, () => {
  it('takes the documented defaults from an empty environment', () => {
    const config = loadConfig({});
    expect(config).toBeInstanceOf(AppConfig);
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      REDIS_URL: 'redis://127.0.0.1:6379',
      ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
      LOG_LEVEL: 'info',
      READY_TIMEOUT_MS: 2000,
    });
  });

  it('reads and converts the variables it knows', () => {
    const config = loadConfig({
      PORT: '8080',
      REDIS_URL: 'rediss://:secret@redis.internal:6380/2',
      ELASTICSEARCH_URL: 'https://es.internal:9243',
      LOG_LEVEL: 'debug',
    });
    expect(config.PORT).toBe(8080);
    expect(config.REDIS_URL).toBe('rediss://:secret@redis.internal:6380/2');
    expect(config.ELASTICSEARCH_URL).toBe('https://es.internal:9243');
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });

  it.each([['abc'], ['0'], ['65536'], ['80.5'], ['-1'], ['3000abc']])('rejects PORT=%s', (port) => {
    expect(() => loadConfig({ PORT: port })).toThrow(
      /PORT: must be a whole number from 1 to 65535/,
    );
  });

  it.each([['http://127.0.0.1:6379'], ['127.0.0.1:6379'], ['redis://'], ['not a url']])(
    'rejects REDIS_URL=%s',
    (url) => {
      expect(() => loadConfig({ REDIS_URL: url })).toThrow(
        /REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/,
      );
    },
  );

  it('takes several Elasticsearch nodes, separated by commas', () => {
    const nodes = 'http://10.0.0.1:9200, https://es-2.internal:9243,http://[::1]:9200';
    expect(loadConfig({ ELASTICSEARCH_URL: nodes }).ELASTICSEARCH_URL).toBe(nodes);
  });

  it.each([['127.0.0.1:9200'], ['ftp://es.internal'], ['not a url']])(
    'rejects ELASTICSEARCH_URL=%s',
    (url) => {
      expect(() => loadConfig({ ELASTICSEARCH_URL: url })).toThrow(
        'ELASTICSEARCH_URL: must be a http:// or https:// URL with a host, e.g. ELASTICSEARCH_URL=http://127.0.0.1:9200',
      );
    },
  );

  it.each([
    ['http://10.0.0.1:9200,10.0.0.2:9200', 'entry 2 of 2 is not a http:// or https:// URL'],
    ['http://10.0.0.1:9200,,http://10.0.0.3:9200', 'entry 2 of 3 is empty'],
    ['ftp://user:hunter2@a,http://10.0.0.2:9200', 'entry 1 of 2 is not a http:// or https:// URL'],
  ])('names the bad entry of ELASTICSEARCH_URL=%s and how to list nodes', (url, problem) => {
    let message = '';
    try {
      loadConfig({ ELASTICSEARCH_URL: url });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`ELASTICSEARCH_URL: ${problem}`);
    expect(message).toContain(
      'list the nodes as URLs separated by commas, e.g. ELASTICSEARCH_URL=http://10.0.0.1:9200,http://10.0.0.2:9200,http://10.0.0.3:9200',
    );
    expect(message).not.toContain('hunter2');
  });

  it('on a Redis Cluster, hashes every key into one slot and waits for a replica', () => {
    const single = loadConfig({});
    expect([single.redisCluster, single.keyPrefix, single.waitReplicas]).toEqual([
      false,
      'threadline',
      0,
    ]);
    const cluster = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis://:pw@10.0.0.2:7001' });
    expect([cluster.redisCluster, cluster.keyPrefix, cluster.waitReplicas]).toEqual([
      true,
      '{threadline}',
      1,
    ]);
    // A prefix that already names its hash tag, and an explicit replica count, are kept.
    const own = loadConfig({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000',
      REDIS_PREFIX: 'app-{tl}',
      REDIS_WAIT_REPLICAS: '0',
    });
    expect([own.keyPrefix, own.waitReplicas]).toEqual(['app-{tl}', 0]);
  });

  it.each([['10.0.0.1'], ['10.0.0.1:7000,'], ['http://10.0.0.1:7000'], ['10.0.0.1:port']])(
    'refuses REDIS_CLUSTER_NODES=%s, naming the form it takes',
    (nodes) => {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: nodes })).toThrow(
        /REDIS_CLUSTER_NODES.*host:port pairs.*e\.g\. REDIS_CLUSTER_NODES=10\.0\.0\.1:7000/s,
      );
    },
  );

  it('takes TRUST_PROXY as Express takes trust proxy: off, a hop count, or addresses', () => {
    expect(loadConfig({}).trustProxy).toBe('loopback');
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::1' }).trustProxy).toBe(
      'loopback, 10.0.0.0/8,fd00::1',
    );
    for (const value of ['true', 'everyone', '10.0.0.0/8;rm', '10.0.0.1,'])
      expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY.*e\.g\. TRUST_PROXY=/s);
  });

  it('refuses API_KEYS with an unknown grant, giving the syntax and an example', () => {
    const key = '0123456789abcdef0123456789abcdef';
    expect(loadConfig({ API_KEYS: `ops:${key}:high+admin,bob:${key}` }).API_KEYS).toContain(
      'high+admin',
    );
    expect(() => loadConfig({ API_KEYS: `ops:${key}:root` })).toThrow(
      /API_KEYS.*name:key\[:grant\[\+grant\]\].*e\.g\. API_KEYS=alice:/s,
    );
  });

  it('bounds a trace by TRACE_DEFAULT_LIMIT and TRACE_MAX_LIMIT, the default not above the maximum', () => {
    expect(loadConfig({})).toMatchObject({ TRACE_DEFAULT_LIMIT: 1000, TRACE_MAX_LIMIT: 10_000 });
    expect(loadConfig({ TRACE_DEFAULT_LIMIT: '50', TRACE_MAX_LIMIT: '50' })).toMatchObject({
      TRACE_DEFAULT_LIMIT: 50,
      TRACE_MAX_LIMIT: 50,
    });
    expect(() => loadConfig({ TRACE_MAX_LIMIT: '500' })).toThrow(
      'TRACE_DEFAULT_LIMIT: must not be above TRACE_MAX_LIMIT',
    );
    expect(() => loadConfig({ TRACE_MAX_LIMIT: '1000000' })).toThrow(
      'TRACE_MAX_LIMIT: must be a whole number of lines from 1 to 100000',
    );
    expect(() => loadConfig({ TRACE_DEFAULT_LIMIT: '0' })).toThrow(
      'TRACE_DEFAULT_LIMIT: must be a whole number of lines from 1 to 100000',
    );
  });

  it('lists every invalid variable in one error, without echoing their values', () => {
    let caught: unknown;
    try {
      loadConfig({ PORT: 'x', REDIS_URL: 'ftp://user:hunter2@host', LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidConfigError);
    const error = caught as InvalidConfigError;
    expect(error.name).toBe('InvalidConfigError');
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'REDIS_URL',
    ]);
    expect(error.message).toContain('3 environment variable(s) are invalid');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain(
      'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace',
    );
  });
});
