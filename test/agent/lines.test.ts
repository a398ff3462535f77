import t from 'tap';
import { LineSplitter, utf8Boundary } from '../../agent/lines.js';

function split(chunks: Buffer[], max?: number): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l), max);
  for (const c of chunks) s.push(c);
  s.end();
  return out;
}

t.test('splits on newlines across chunk boundaries, strips CR, keeps a last unterminated line', async (t) => {
  t.same(split([Buffer.from('a\nb'), Buffer.from('c\r\n\nd')]), ['a', 'bc', '', 'd']);
  t.same(split([Buffer.from('x\n')]), ['x']);
  t.same(split([]), []);
});

t.test('a multi-byte character split across reads is reassembled', async (t) => {
  const euro = Buffer.from('€\n'); // e2 82 ac 0a
  t.same(split([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)]), ['€']);
});

t.test('invalid UTF-8 becomes U+FFFD', async (t) => {
  t.same(split([Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a])]), ['a\uFFFD\uFFFDb']);
});

t.test('very long lines are cut at character boundaries, nothing lost', async (t) => {
  const long = 'é'.repeat(50) + 'x'.repeat(17); // 117 bytes
  const parts = split([Buffer.from(long + '\nend\n')], 16);
  t.equal(parts.at(-1), 'end');
  const pieces = parts.slice(0, -1);
  t.equal(pieces.join(''), long, 'the pieces put together give the line back');
  for (const p of pieces) t.ok(Buffer.byteLength(p) <= 16, 'each piece within the limit');
  t.notOk(pieces.join('').includes('\uFFFD'), 'no character was cut in two');
});

t.test('a long line arriving in many small chunks is cut too', async (t) => {
  const out = split(
    Array.from({ length: 100 }, () => Buffer.from('abcdefgh')),
    64,
  );
  t.equal(out.length, 13);
  t.equal(out.join(''), 'abcdefgh'.repeat(100));
});

t.test('utf8Boundary backs up to the first byte of a character', async (t) => {
  const b = Buffer.from('a€b'); // 61 e2 82 ac 62
  t.equal(utf8Boundary(b, 2), 1);
  t.equal(utf8Boundary(b, 3), 1);
  t.equal(utf8Boundary(b, 4), 4);
  t.equal(utf8Boundary(b, 10), 5);
});
