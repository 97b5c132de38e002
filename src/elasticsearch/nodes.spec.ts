import { describeNodes, elasticsearchNodes } from './nodes';

describe(elasticsearchNodes.name, () => {
  it('reads one URL as one node', () => {
    expect(elasticsearchNodes('http://127.0.0.1:9200')).toEqual(['http://127.0.0.1:9200']);
  });

  it('reads a comma-separated list in its order, without blanks', () => {
    expect(elasticsearchNodes(' http://a:9200 ,http://b:9200,, http://c:9200,')).toEqual([
      'http://a:9200',
      'http://b:9200',
      'http://c:9200',
    ]);
  });
});

describe(describeNodes.name, () => {
  it('shows each node by its origin, never its credentials', () => {
    expect(describeNodes(['https://elastic:hunter2@es-1:9243/', 'http://es-2:9200'])).toBe(
      'https://es-1:9243, http://es-2:9200',
    );
  });
});
