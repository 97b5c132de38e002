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

  it("searches every source's stream and the family's own, by name", () => {
    expect(streams.patterns).toEqual([
      'logs-threadline.api-default',
      'logs-threadline.worker-default',
      'logs-threadline.nginx-default',
      'logs-threadline-default',
    ]);
    expect(streams.searched).toBe(streams.patterns.join(','));
    // Not another family's, whose name starts with this one's and a dot.
    const staging = new LogStreams('logs-threadline.staging-default');
    expect(streams.patterns.some((p) => staging.patterns.includes(p))).toBe(false);
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
