import { decodeEntries, encodeEntry } from './spool-entry';

const text = (entries: { id: string; document: Buffer }[]): [string, string][] =>
  entries.map(({ id, document }) => [id, document.toString()]);

describe(decodeEntries.name, () => {
  it('reads back the id and the document of what encodeEntry wrote, in order', () => {
    const body = Buffer.from(encodeEntry('p-1', '{"n":1}') + encodeEntry('p-2', '{"n":"é"}'));
    const { entries, unreadable } = decodeEntries(body);
    expect(text(entries)).toEqual([
      ['p-1', '{"n":1}'],
      ['p-2', '{"n":"é"}'],
    ]);
    expect(unreadable).toEqual([]);
  });

  it('writes a header that names no target: only the id', () => {
    expect(encodeEntry('p-1', '{"n":1}')).toBe('{"id":"p-1"}\n{"n":1}\n');
  });

  // A process upgraded with lines still spooled, or one adopting an older process's spool.
  it('reads entries of version 1, whose header is a _bulk create action', () => {
    const body = Buffer.from('{"create":{"_id":"old-1"}}\n{"n":1}\n{"id":"new-2"}\n{"n":2}\n');
    expect(text(decodeEntries(body).entries)).toEqual([
      ['old-1', '{"n":1}'],
      ['new-2', '{"n":2}'],
    ]);
  });

  it('sets apart an entry whose header names no id, and reads on past it', () => {
    const body = Buffer.from('{"id":"a"}\n{"n":1}\n{"id":\n{"n":2}\n{"index":{}}\n{"n":3}\n');
    const { entries, unreadable } = decodeEntries(body);
    expect(text(entries)).toEqual([['a', '{"n":1}']]);
    expect(unreadable.map((u) => [u.header, u.document.toString()])).toEqual([
      ['{"id":', '{"n":2}'],
      ['{"index":{}}', '{"n":3}'],
    ]);
  });
});
