import { describe, expect, it } from 'vitest';
import { TestCluster } from '../../src/raft/sim/step-cluster.js';
import { RaftCore, seededRandom, type Message } from '../../src/raft/core/index.js';

const ids3 = ['n1', 'n2', 'n3'];
const text = (e: { data: Uint8Array }) => new TextDecoder().decode(e.data);

describe('raft core: elections', () => {
  it('elects a leader that every node follows, and persists the vote before answering', () => {
    const c = new TestCluster(ids3);
    c.core('n1').campaign();
    c.flush('n1');
    // Pre-vote round first: no term change anywhere yet.
    expect(c.core('n1').state).toBe('PreCandidate');
    expect(c.core('n1').term).toBe(1);
    c.deliver();
    expect(c.core('n1').state).toBe('Leader');
    expect(c.core('n1').term).toBe(2);
    for (const id of ['n2', 'n3']) {
      expect(c.core(id).state).toBe('Follower');
      expect(c.core(id).lead).toBe('n1');
      expect(c.get(id).disk.hardState.vote).toBe('n1');
    }
    // The leader's no-op of term 2 is committed and applied everywhere.
    for (const id of ids3) expect(c.get(id).applied.at(-1)).toMatchObject({ term: 2, index: 4 });
  });

  it('hands a vote response out only in a Ready that persists the vote (mustSync)', () => {
    const c = new TestCluster(ids3, { preVote: false });
    c.core('n1').campaign();
    c.flush('n1');
    const vote = c.queue.find((m) => m.type === 'Vote' && m.to === 'n2')!;
    c.queue = [];
    c.core('n2').step(vote);
    const rd = c.core('n2').ready();
    expect(rd.messages.map((m) => m.type)).toEqual(['VoteResp']);
    expect(rd.hardState).toMatchObject({ term: 2, vote: 'n1' });
    expect(rd.mustSync).toBe(true);
    c.core('n2').advance();
  });

  it('randomizes election timeouts within [electionTick, 2·electionTick)', () => {
    const c = new TestCluster(ids3);
    let ticks = 0;
    while (c.core('n2').state === 'Follower' && ticks < 100) {
      c.tick('n2');
      ticks++;
    }
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(ticks).toBeLessThan(20);
  });

  it('pre-vote: a partitioned node does not inflate its term or disrupt the leader when it returns', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    c.isolate('n3');
    for (let k = 0; k < 100; k++) {
      c.tick('n3');
      c.deliver();
    }
    expect(c.core('n3').term).toBe(2); // pre-votes never bump the term
    c.heal();
    for (let k = 0; k < 5; k++) {
      c.tick('n1');
      c.tick('n3');
      c.deliver();
    }
    expect(c.core('n1').state).toBe('Leader');
    expect(c.core('n1').term).toBe(2);
    expect(c.core('n3').lead).toBe('n1');
  });

  it('check-quorum: a leader that cannot reach a majority steps down', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    c.isolate('n1');
    for (let k = 0; k < 21; k++) {
      c.tick('n1');
      c.deliver();
    }
    expect(c.core('n1').state).toBe('Follower');
  });

  it('a follower that heard from the leader recently ignores vote requests (leader lease)', () => {
    const c = new TestCluster(ids3, { preVote: false });
    c.elect('n1');
    c.isolate('n1');
    // n3 campaigns, but n2 has just heard from n1.
    c.core('n3').campaign();
    c.flush('n3');
    c.deliver();
    expect(c.core('n3').state).toBe('Candidate');
    expect(c.core('n2').term).toBe(2);
  });
});

describe('raft core: log replication', () => {
  it('Figure 8: never commits an old-term entry by counting replicas', () => {
    for (const mutated of [false, true]) {
      const c = new TestCluster([], { maxSizePerMsg: 1, checkQuorum: false });
      for (const id of ids3) c.add(id, ids3, Number(id.slice(1)), mutated ? ['commitOldTerm'] : []);
      c.elect('n1'); // term 2
      c.isolate('n1');
      const old = c.propose('n1', 'x'); // (5, t2) on n1 only
      c.deliver();
      // n2 wins term 3 with n3's vote, appends its no-op (5, t3), and is cut off at once.
      c.cut.clear();
      c.isolate('n1');
      c.core('n2').campaign();
      c.flush('n2');
      c.deliver((m) => m.type !== 'App'); // votes flow, n2's appends do not
      expect(c.core('n2').state).toBe('Leader');
      expect(c.core('n2').logTerm(5)).toBe(3);
      c.queue = [];
      // n1 returns and wins term 4 with n3 (whose log ends before index 5).
      c.heal();
      c.isolate('n2');
      c.tick('n1'); // n1's heartbeat meets n3's newer term: n1 steps down
      c.deliver((m) => m.type !== 'App');
      expect(c.core('n1').state).toBe('Follower');
      for (let k = 0; k < 30 && c.core('n1').state !== 'Leader'; k++) {
        c.tick('n1');
        c.tick('n3');
        c.deliverOneRound();
      }
      expect(c.core('n1').state).toBe('Leader');
      expect(c.core('n1').term).toBe(4);
      // Replicate one entry per message until n3 holds the old entry but not the term-4 no-op.
      for (let k = 0; k < 20 && c.core('n3').logTerm(old.index) !== 2; k++) c.deliverOneRound();
      expect(c.core('n3').logTerm(old.index)).toBe(2);
      expect(c.core('n3').lastIndex()).toBe(old.index);
      c.deliverOneRound((m) => m.type === 'AppResp'); // n3 acknowledges index 5
      if (mutated) {
        expect(c.core('n1').commit).toBe(old.index); // the planted bug commits (5, t2)
        continue;
      }
      expect(c.core('n1').commit).toBeLessThan(old.index);
      c.deliver();
      expect(c.core('n1').commit).toBe(old.index + 1); // committed together with the term-4 no-op
    }
  });

  it('a follower with a long conflicting tail converges with few rejections (fast backtracking)', () => {
    const c = new TestCluster(ids3, { checkQuorum: false });
    c.elect('n1');
    c.isolate('n1');
    for (let k = 0; k < 20; k++) c.propose('n1', `stale${k}`);
    c.deliver();
    c.heal();
    c.isolate('n1');
    c.elect('n2');
    for (let k = 0; k < 5; k++) c.propose('n2', `fresh${k}`);
    c.deliver();
    c.heal();
    c.queue = [];
    c.tick('n2');
    let rejections = 0;
    c.deliver((m: Message) => {
      if (m.type === 'AppResp' && m.reject) rejections++;
      return true;
    });
    expect(c.logTerms('n1')).toEqual(c.logTerms('n2'));
    expect(rejections).toBeLessThanOrEqual(2);
    expect(c.core('n1').commit).toBe(c.core('n2').commit);
    expect(c.get('n1').applied.map(text).filter((t) => t.startsWith('stale'))).toEqual([]);
  });

  it('pipelines appends to a follower in Replicate state up to the in-flight bound', () => {
    const c = new TestCluster(ids3, { maxInflightMsgs: 3, maxSizePerMsg: 1 });
    c.elect('n1');
    for (let k = 0; k < 10; k++) {
      const res = c.core('n1').propose(new TextEncoder().encode(`v${k}`));
      expect(res.ok).toBe(true);
    }
    c.flush('n1');
    const toN2 = c.queue.filter((m) => m.type === 'App' && m.to === 'n2');
    expect(toN2.length).toBe(3);
    expect(c.core('n1').status().progress.get('n2')).toMatchObject({ state: 'Replicate', inflight: 3 });
    c.deliver();
    expect(c.core('n2').commit).toBe(c.core('n1').lastIndex());
  });

  it('installs a snapshot on a follower whose entries were compacted away', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    c.isolate('n3');
    for (let k = 0; k < 10; k++) c.propose('n1', `v${k}`);
    c.deliver();
    const leader = c.get('n1');
    const at = leader.core.applied;
    leader.disk.saveSnapshotNow({
      meta: { index: at, term: leader.core.logTerm(at)!, conf: leader.core.confStateAt(at) },
      data: new TextEncoder().encode('state'),
    });
    leader.disk.compact(at);
    c.heal();
    let snaps = 0;
    for (let k = 0; k < 5; k++) {
      c.tick('n1');
      c.deliver((m) => {
        if (m.type === 'Snap') snaps++;
        return true;
      });
    }
    expect(snaps).toBe(1);
    const n3 = c.get('n3');
    expect(n3.disk.snapshotMeta?.index).toBe(at);
    expect(new TextDecoder().decode(n3.disk.snapshot()!.data)).toBe('state');
    expect(n3.core.lastIndex()).toBe(leader.core.lastIndex());
    expect(n3.core.commit).toBe(leader.core.commit);
    c.propose('n1', 'after');
    c.deliver();
    expect(text(n3.applied.at(-1)!)).toBe('after');
  });
});

describe('raft core: leadership transfer, membership, reads', () => {
  it('transfers leadership to a caught-up follower with TimeoutNow', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    c.propose('n1', 'a');
    c.deliver();
    expect(c.core('n1').transferLeader('n3')).toBe(true);
    expect(c.core('n1').propose(new Uint8Array([1]))).toMatchObject({ ok: false, reason: 'TransferInProgress' });
    c.flush('n1');
    c.deliver();
    expect(c.core('n3').state).toBe('Leader');
    expect(c.core('n3').term).toBe(3);
    expect(c.core('n1').state).toBe('Follower');
  });

  it('adds a learner that catches up without voting, then promotes it; one change at a time', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    for (let k = 0; k < 5; k++) c.propose('n1', `v${k}`);
    c.deliver();
    const add = c.core('n1').proposeConfChange({ type: 'AddLearner', node: 'n4' });
    expect(add.ok).toBe(true);
    // A second change while the first is uncommitted is refused.
    expect(c.core('n1').proposeConfChange({ type: 'AddLearner', node: 'n5' })).toMatchObject({ ok: false, reason: 'ChangeNotAllowed' });
    c.flush('n1');
    c.add('n4', []);
    c.deliver();
    for (let k = 0; k < 3; k++) {
      c.tick('n1');
      c.deliver();
    }
    const n4 = c.core('n4');
    expect(n4.lastIndex()).toBe(c.core('n1').lastIndex());
    expect(n4.confState()).toEqual({ voters: ids3, learners: ['n4'] });
    // A learner never campaigns.
    c.isolate('n4');
    c.tick('n4', 50);
    expect(n4.state).toBe('Follower');
    expect(n4.term).toBe(2);
    c.heal();
    expect(c.core('n1').proposeConfChange({ type: 'AddNode', node: 'n4' }).ok).toBe(true);
    c.flush('n1');
    c.deliver();
    expect(c.core('n1').confState()).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] });
    expect(c.core('n4').confState().voters).toContain('n4');
    // Quorum is now 3 of 4: with n2 and n3 down, nothing commits.
    c.isolate('n2');
    c.isolate('n3');
    const before = c.core('n1').commit;
    c.propose('n1', 'needs-three');
    c.deliver();
    expect(c.core('n1').commit).toBe(before);
  });

  it('a new leader refuses configuration changes until it commits an entry of its term', () => {
    const c = new TestCluster(ids3);
    c.core('n1').campaign();
    c.flush('n1');
    c.deliver((m) => m.type !== 'App'); // elected, but its no-op is not replicated yet
    expect(c.core('n1').state).toBe('Leader');
    expect(c.core('n1').proposeConfChange({ type: 'AddLearner', node: 'n4' })).toMatchObject({ ok: false, reason: 'ChangeNotAllowed' });
    c.tick('n1');
    c.deliver();
    expect(c.core('n1').proposeConfChange({ type: 'AddLearner', node: 'n4' }).ok).toBe(true);
  });

  it('ReadIndex: served only after a heartbeat round confirms leadership', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    c.propose('n1', 'w');
    c.deliver();
    expect(c.core('n1').readIndex('r1')).toBe(true);
    c.flush('n1');
    expect(c.get('n1').reads).toEqual([]);
    c.deliver();
    expect(c.get('n1').reads).toEqual([{ index: c.core('n1').commit, context: 'r1' }]);
    // A follower's read is forwarded and answered with the leader's commit index.
    expect(c.core('n2').readIndex('r2')).toBe(true);
    c.flush('n2');
    c.deliver();
    expect(c.get('n2').reads).toEqual([{ index: c.core('n1').commit, context: 'r2' }]);
    // An isolated leader cannot confirm leadership: the read stays pending.
    c.isolate('n1');
    c.core('n1').readIndex('r3');
    c.flush('n1');
    for (let k = 0; k < 3; k++) {
      c.tick('n1');
      c.deliver();
    }
    expect(c.get('n1').reads.map((r) => r.context)).toEqual(['r1']);
  });

  it('ReadIndex: a new leader waits until it commits an entry of its own term', () => {
    const c = new TestCluster(ids3);
    c.core('n1').campaign();
    c.flush('n1');
    c.deliver((m) => m.type !== 'App' && m.type !== 'Heartbeat');
    expect(c.core('n1').state).toBe('Leader');
    c.core('n1').readIndex('early');
    c.flush('n1');
    c.deliver((m) => m.type !== 'App');
    expect(c.get('n1').reads).toEqual([]);
    c.tick('n1');
    c.deliver();
    expect(c.get('n1').reads).toEqual([{ index: c.core('n1').commit, context: 'early' }]);
    expect(c.core('n1').logTerm(c.core('n1').commit)).toBe(c.core('n1').term);
  });

  it('restarts from its durable log with the same term, vote, log and configuration', () => {
    const c = new TestCluster(ids3);
    c.elect('n1');
    c.propose('n1', 'p');
    c.deliver();
    const disk = c.get('n2').disk;
    const before = c.core('n2').status();
    disk.crash(); // everything Ready asked to sync survives
    const core = new RaftCore({ id: 'n2', storage: disk, random: seededRandom(5) });
    expect(core.term).toBe(before.term);
    expect(core.lastIndex()).toBe(before.lastIndex);
    expect(core.confState()).toEqual(before.conf);
    expect(core.logTerm(before.lastIndex)).toBe(2);
    expect(disk.hardState.vote).toBe('n1');
  });
});
