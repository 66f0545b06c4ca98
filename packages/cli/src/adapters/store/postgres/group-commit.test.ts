import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit, type GroupEntry } from './group-commit.js';

type Item = { id: string; bytes?: number; n: number };

/** A GroupCommit whose commits wait until the test lets each one finish. */
function harness(options: { maxGroupSize?: number; maxGroupBytes?: number; maxGroupsInFlight?: number } = {}) {
  const groups: string[][] = [];
  const finish: Array<(error?: Error) => void> = [];
  let onGroup = () => {};
  const groupCommit = new GroupCommit<Item, string>({
    commit: (group: GroupEntry<Item, string>[]) => {
      groups.push(group.map((entry) => `${entry.item.id}#${entry.item.n}`));
      const number = groups.length;
      onGroup();
      return new Promise<void>((resolve, reject) => {
        finish.push((error) => {
          if (error) return reject(error);
          for (const entry of group) entry.resolve(`${entry.item.id}#${entry.item.n} in group ${number}`);
          resolve();
        });
      });
    },
    keyOf: (item) => item.id,
    bytesOf: (item) => item.bytes ?? 1,
    maxGroupSize: options.maxGroupSize ?? 100,
    maxGroupBytes: options.maxGroupBytes ?? 1_000,
    maxGroupsInFlight: options.maxGroupsInFlight ?? 1,
  });
  /** Resolves when the next group is handed to `commit`. */
  const nextGroup = () =>
    new Promise<void>((resolve) => {
      onGroup = resolve;
    });
  return { groupCommit, groups, finish, nextGroup };
}

describe('GroupCommit', () => {
  it('sends what arrives in one turn as one group, and what arrives during its round trip as the next', async () => {
    const { groupCommit, groups, finish, nextGroup } = harness();
    let started = nextGroup();
    const first = ['a', 'b', 'c'].map((id, n) => groupCommit.submit({ id, n }));
    await started;
    assert.deepEqual(groups, [['a#0', 'b#1', 'c#2']]);
    const second = ['d', 'e'].map((id, n) => groupCommit.submit({ id, n }));
    // Nothing else starts while the first group is in flight.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(groups.length, 1);
    started = nextGroup();
    finish[0]?.();
    assert.deepEqual(await Promise.all(first), ['a#0 in group 1', 'b#1 in group 1', 'c#2 in group 1']);
    await started;
    assert.deepEqual(groups[1], ['d#0', 'e#1']);
    finish[1]?.();
    assert.deepEqual(await Promise.all(second), ['d#0 in group 2', 'e#1 in group 2']);
    await groupCommit.idle();
  });

  it('bounds a group by count and by bytes; an entry larger than the byte bound goes alone', async () => {
    const { groupCommit, groups, finish, nextGroup } = harness({ maxGroupSize: 2, maxGroupBytes: 10 });
    const writes = [
      { id: 'a', n: 0 },
      { id: 'b', n: 1 },
      { id: 'c', n: 2 },
      { id: 'big', n: 3, bytes: 50 },
      { id: 'd', n: 4, bytes: 6 },
      { id: 'e', n: 5, bytes: 6 },
    ].map((item) => groupCommit.submit(item));
    for (let i = 0; i < 5; i++) {
      const started = nextGroup();
      if (i > 0) finish[i - 1]?.();
      await started;
    }
    finish[4]?.();
    await groupCommit.idle();
    // In call order: a full group ends at the first entry that does not fit.
    assert.deepEqual(groups, [['a#0', 'b#1'], ['c#2'], ['big#3'], ['d#4'], ['e#5']]);
    assert.equal((await Promise.all(writes)).length, 6);
  });

  it('holds an id back while a group with it is in flight, with every later entry of that id, and lets others pass', async () => {
    const { groupCommit, groups, finish, nextGroup } = harness({ maxGroupsInFlight: 2 });
    let started = nextGroup();
    const a0 = groupCommit.submit({ id: 'a', n: 0 });
    await started;
    started = nextGroup();
    const later = [groupCommit.submit({ id: 'a', n: 1 }), groupCommit.submit({ id: 'b', n: 2 })];
    await started;
    // A second group goes while the first is in flight, but without `a`, whose first delivery is still in it.
    assert.deepEqual(groups, [['a#0'], ['b#2']]);
    started = nextGroup();
    finish[0]?.();
    await started;
    assert.deepEqual(groups[2], ['a#1']);
    finish[1]?.();
    finish[2]?.();
    assert.equal(await a0, 'a#0 in group 1');
    assert.deepEqual(await Promise.all(later), ['a#1 in group 3', 'b#2 in group 2']);
  });

  it('rejects the entries a failed commit left unsettled, and goes on with the next group', async () => {
    const { groupCommit, finish, nextGroup } = harness();
    let started = nextGroup();
    const failing = [groupCommit.submit({ id: 'a', n: 0 }), groupCommit.submit({ id: 'b', n: 1 })];
    await started;
    started = nextGroup();
    const next = groupCommit.submit({ id: 'c', n: 2 });
    finish[0]?.(new Error('the database is gone'));
    for (const write of failing) await assert.rejects(write, { message: 'the database is gone' });
    await started;
    finish[1]?.();
    assert.equal(await next, 'c#2 in group 2');
  });
});
