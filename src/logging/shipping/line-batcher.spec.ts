import { setTimeout as sleep } from 'node:timers/promises';
import { LineBatcher } from './line-batcher';

describe('LineBatcher', () => {
  const target = (): { writes: string[]; write(line: string): void } => {
    const writes: string[] = [];
    return { writes, write: (line) => void writes.push(line) };
  };

  it('passes a line after a quiet spell at once, and the lines behind it together', async () => {
    const sink = target();
    const batcher = new LineBatcher(sink, 5);
    batcher.write('a\n');
    expect(sink.writes).toEqual(['a\n']);
    batcher.write('b\n');
    batcher.write('c\n');
    expect(sink.writes).toEqual(['a\n']);
    await sleep(30);
    expect(sink.writes).toEqual(['a\n', 'b\nc\n']);
    await sleep(30);
    batcher.write('d\n');
    expect(sink.writes).toEqual(['a\n', 'b\nc\n', 'd\n']);
  });

  it('passes on what is pending at once when flushed, and nothing twice', async () => {
    const sink = target();
    const batcher = new LineBatcher(sink, 1000);
    batcher.write('first\n');
    batcher.write('last words\n');
    batcher.flush();
    batcher.flush();
    expect(sink.writes).toEqual(['first\n', 'last words\n']);
    await sleep(10);
    expect(sink.writes).toHaveLength(2);
  });
});
