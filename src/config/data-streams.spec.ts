import { LogStreams } from './data-streams';

describe(LogStreams.name, () => {
  const streams = new LogStreams('logs-threadline-default');

  it("names each source's dataset and stream after Elastic's scheme", () => {
    expect(streams.stream('api')).toBe('logs-threadline.api-default');
    expect(streams.stream('nginx')).toBe('logs-threadline.nginx-default');
    expect(streams.fields('worker')).toEqual({
      'event.dataset': 'threadline.worker',
      'data_stream.type': 'logs',
      'data_stream.dataset': 'threadline.worker',
      'data_stream.namespace': 'default',
    });
  });

  it("searches every source's stream and the family's own", () => {
    expect(streams.pattern).toBe('logs-threadline.*-default');
    expect(streams.searched).toBe('logs-threadline.*-default,logs-threadline-default');
  });

  it('knows its own datasets only', () => {
    expect(streams.sourceOf('threadline.nginx')).toBe('nginx');
    expect(streams.sourceOf('other.api')).toBeUndefined();
    expect(new LogStreams('logs-shop.prod-eu').stream('api')).toBe('logs-shop.prod.api-eu');
  });

  it('refuses a name that is not a data stream name', () => {
    expect(() => new LogStreams('threadline')).toThrow(/logs-threadline-default/);
  });
});
