import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIndex, mergeBySeq, type Sequenced } from '../../src/backends/memory/seq-index.js';

const item = (seq: number): Sequenced => ({ seq });
const seqs = (items: Iterable<Sequenced>) => [...items].map((i) => i.seq);

describe('SeqIndex', () => {
  it('starts empty', () => {
    const index = new SeqIndex();
    expect(index.size).toBe(0);
    expect(seqs(index.from(0))).toEqual([]);
  });

  it('keeps items inserted in order', () => {
    const index = new SeqIndex();
    for (const s of [1, 2, 5, 9]) index.insert(item(s));
    expect(seqs(index.from(0))).toEqual([1, 2, 5, 9]);
    expect(index.size).toBe(4);
  });

  it('sorts items inserted out of order (an item coming back to a status it left)', () => {
    const index = new SeqIndex();
    for (const s of [5, 2, 9, 1, 7, 3]) index.insert(item(s));
    expect(seqs(index.from(0))).toEqual([1, 2, 3, 5, 7, 9]);
  });

  it('from(after) yields only the items with a greater seq', () => {
    const index = new SeqIndex();
    for (const s of [1, 3, 5, 7]) index.insert(item(s));
    expect(seqs(index.from(3))).toEqual([5, 7]);
    expect(seqs(index.from(4))).toEqual([5, 7]);
    expect(seqs(index.from(7))).toEqual([]);
    expect(seqs(index.from(100))).toEqual([]);
  });

  it('removes an item from the middle, the start and the end', () => {
    const index = new SeqIndex();
    const items = [1, 2, 3, 4, 5].map(item);
    for (const i of items) index.insert(i);
    index.remove(items[2] as Sequenced);
    index.remove(items[0] as Sequenced);
    index.remove(items[4] as Sequenced);
    expect(seqs(index.from(0))).toEqual([2, 4]);
    expect(index.size).toBe(2);
  });

  it('from(after) still finds its place when the item at `after` was removed', () => {
    const index = new SeqIndex();
    const items = [10, 20, 30, 40].map(item);
    for (const i of items) index.insert(i);
    index.remove(items[1] as Sequenced); // 20, where a page ended
    expect(seqs(index.from(20))).toEqual([30, 40]);
  });

  it('removing an item that is not there changes nothing, even another object with the same seq', () => {
    const index = new SeqIndex();
    for (const s of [1, 2, 3]) index.insert(item(s));
    index.remove(item(2));
    index.remove(item(8));
    expect(seqs(index.from(0))).toEqual([1, 2, 3]);
  });

  it('matches a sorted array under random inserts and removes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.nat({ max: 1000 }),
        (inserted, removeAt, after) => {
          const index = new SeqIndex();
          const live = inserted.map(item);
          for (const i of live) index.insert(i);
          for (const r of removeAt) {
            if (live.length === 0) break;
            const [gone] = live.splice(r % live.length, 1);
            index.remove(gone as Sequenced);
          }
          const expected = live.map((i) => i.seq).sort((a, b) => a - b);
          expect(seqs(index.from(0))).toEqual(expected);
          expect(seqs(index.from(after))).toEqual(expected.filter((s) => s > after));
          expect(index.size).toBe(expected.length);
        },
      ),
    );
  });
});

describe('mergeBySeq', () => {
  it('merges nothing into nothing', () => {
    expect(seqs(mergeBySeq([]))).toEqual([]);
  });

  it('merges empty and non-empty streams', () => {
    const streams = [[], [2, 4], [], [1, 3]].map((s) => s.map(item)[Symbol.iterator]());
    expect(seqs(mergeBySeq(streams))).toEqual([1, 2, 3, 4]);
  });

  it('merging k sorted arrays equals sorting their union', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.nat(), { maxLength: 200 }),
        (all, k, choices) => {
          const buckets: number[][] = Array.from({ length: k }, () => []);
          all.forEach((s, i) => buckets[(choices[i] ?? i) % k]?.push(s));
          const streams = buckets.map((b) => b.sort((x, y) => x - y).map(item)[Symbol.iterator]());
          expect(seqs(mergeBySeq(streams))).toEqual([...all].sort((x, y) => x - y));
        },
      ),
    );
  });

  it('is lazy: it reads no further than the items taken', () => {
    let pulled = 0;
    function* counted(values: number[]) {
      for (const v of values) {
        pulled += 1;
        yield item(v);
      }
    }
    const merged = mergeBySeq([counted([1, 3, 5, 7, 9]), counted([2, 4, 6, 8])]);
    merged.next();
    merged.next();
    // One head per stream up front, then one more for each item taken.
    expect(pulled).toBeLessThanOrEqual(4);
  });
});
