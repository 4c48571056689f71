import { describe, expect, it } from 'vitest';
import { selectKept } from './retention.js';

const at = (id: string, createdAt: string, parent: string | null = null) => ({ id, createdAt, parent });

describe('retention', () => {
  const rs = [
    at('f1', '2026-01-01T10:00:00Z'), at('i1', '2026-01-01T12:00:00Z', 'f1'), at('i2', '2026-01-02T12:00:00Z', 'i1'),
    at('f2', '2026-01-09T10:00:00Z'), at('i3', '2026-01-10T10:00:00Z', 'f2'), at('i4', '2026-01-10T11:00:00Z', 'i3'),
  ];
  it('keep-last keeps the newest and the chain under it', () => {
    expect([...selectKept(rs, { keepLast: 1 }).keys()].sort()).toEqual(['f2', 'i3', 'i4']);
  });
  it('keep-daily keeps the newest of each day, with its bases', () => {
    expect([...selectKept(rs, { keepDaily: 2 }).keys()].sort()).toEqual(['f2', 'i3', 'i4']);
    expect([...selectKept(rs, { keepDaily: 4 }).keys()].sort()).toEqual(['f1', 'f2', 'i1', 'i2', 'i3', 'i4']);
  });
  it('keep-weekly counts ISO weeks', () => {
    expect([...selectKept(rs, { keepWeekly: 2 }).keys()].sort()).toEqual(['f1', 'f2', 'i1', 'i2', 'i3', 'i4']);
    expect(selectKept(rs, { keepWeekly: 1 }).get('i4')).toEqual(['weekly']);
  });
  it('an empty policy keeps nothing', () => {
    expect(selectKept(rs, {}).size).toBe(0);
  });
});
