// Proves the group coordinator follows Kafka's state machine: member ids, generations, parked
// joins and syncs, rebalance on join/leave/expiry, offset commit rules, describe/list/delete.
import { describe, expect, it } from 'vitest'
import { GROUP_CLEANUP_DELAY_MS, GroupCoordinator } from '../../src/groups/coordinator.js'
import { MemoryOffsetStore } from '../../src/groups/offset-store.js'
import {
  GroupErrorCode, type JoinGroupRequest, type JoinGroupResponse,
} from '../../src/groups/types.js'
import { FakeClock } from './fake-clock.js'

const SESSION_MS = 10_000
const REBALANCE_MS = 30_000

async function setup() {
  const clock = new FakeClock()
  const store = new MemoryOffsetStore()
  const coordinator = await GroupCoordinator.open({ store, clock })
  return { clock, store, coordinator }
}

function joinRequest(memberId = '', protocols = ['range']): JoinGroupRequest {
  return {
    groupId: 'g', memberId, clientId: 'c', clientHost: '/127.0.0.1',
    sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: REBALANCE_MS, protocolType: 'consumer',
    protocols: protocols.map((name) => ({ name, metadata: Buffer.from(`${name}:${memberId}`) })),
    requireKnownMemberId: true,
  }
}

/** Joins as a brand-new member the v4+ way: MEMBER_ID_REQUIRED, then again with the id. */
async function joinNew(coordinator: GroupCoordinator)
  : Promise<{ parked: Promise<JoinGroupResponse> }> {
  const first = await coordinator.join(joinRequest())
  expect(first.errorCode).toBe(GroupErrorCode.MEMBER_ID_REQUIRED)
  expect(first.memberId).toMatch(/^c-/)
  return { parked: coordinator.join(joinRequest(first.memberId)) }
}

async function stableGroupOfTwo() {
  const env = await setup()
  const a = await (await joinNew(env.coordinator)).parked
  const b = (await joinNew(env.coordinator)).parked
  // B's arrival starts a rebalance; A learns it from its heartbeat and rejoins.
  expect(env.coordinator.heartbeat({ groupId: 'g', memberId: a.memberId,
    generationId: a.generationId })).toBe(GroupErrorCode.REBALANCE_IN_PROGRESS)
  const a2 = env.coordinator.join(joinRequest(a.memberId))
  const [joinedA, joinedB] = await Promise.all([a2, b])
  const syncs = Promise.all([
    env.coordinator.sync({ groupId: 'g', memberId: joinedA.memberId,
      generationId: joinedA.generationId, assignments: [
        { memberId: joinedA.memberId, assignment: Buffer.from('for-a') },
        { memberId: joinedB.memberId, assignment: Buffer.from('for-b') },
      ] }),
    env.coordinator.sync({ groupId: 'g', memberId: joinedB.memberId,
      generationId: joinedB.generationId, assignments: [] }),
  ])
  const [syncA, syncB] = await syncs
  return { ...env, a: joinedA, b: joinedB, syncA, syncB }
}

describe('membership', () => {
  it('hands out member ids, elects the first member leader, completes generation 1', async () => {
    const { coordinator } = await setup()
    const joined = await (await joinNew(coordinator)).parked
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' })
    expect(joined.leaderId).toBe(joined.memberId)
    expect(joined.members.map((m) => m.memberId)).toEqual([joined.memberId])
    expect(coordinator.describeGroups(['g'])[0]!.state).toBe('CompletingRebalance')
  })

  it('parks joins until every member rejoined, then answers all with one generation', async () => {
    const { a, b, syncA, syncB, coordinator } = await stableGroupOfTwo()
    expect(a.generationId).toBe(2)
    expect(b.generationId).toBe(2)
    expect(a.leaderId).toBe(a.memberId)
    expect(a.members).toHaveLength(2)
    expect(b.members).toEqual([])
    expect(syncA.assignment.toString()).toBe('for-a')
    expect(syncB.assignment.toString()).toBe('for-b')
    const [description] = coordinator.describeGroups(['g'])
    expect(description)
      .toMatchObject({ state: 'Stable', protocol: 'range', protocolType: 'consumer' })
    expect(description!.members.map((m) => m.assignment.toString()).sort())
      .toEqual(['for-a', 'for-b'])
  })

  it('rejects stale generations, unknown members and syncs during a rebalance', async () => {
    const { a, b, coordinator } = await stableGroupOfTwo()
    expect(coordinator.heartbeat({ groupId: 'g', memberId: a.memberId, generationId: 1 }))
      .toBe(GroupErrorCode.ILLEGAL_GENERATION)
    expect(coordinator.heartbeat({ groupId: 'g', memberId: 'nobody', generationId: 2 }))
      .toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
    expect((await coordinator.join(joinRequest('nobody'))).errorCode)
      .toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
    coordinator.leave({ groupId: 'g', memberIds: [b.memberId] })
    const sync = await coordinator.sync({ groupId: 'g', memberId: a.memberId,
      generationId: a.generationId, assignments: [] })
    expect(sync.errorCode).toBe(GroupErrorCode.REBALANCE_IN_PROGRESS)
  })

  it('rebalances when a member leaves, and the group is Empty after the last one', async () => {
    const { a, b, coordinator } = await stableGroupOfTwo()
    expect(coordinator.leave({ groupId: 'g', memberIds: [b.memberId] }).members[0]!.errorCode)
      .toBe(0)
    const rejoined = await coordinator.join(joinRequest(a.memberId))
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 3, leaderId: a.memberId })
    expect(rejoined.members).toHaveLength(1)
    coordinator.leave({ groupId: 'g', memberIds: [a.memberId] })
    expect(coordinator.describeGroups(['g'])[0]).toMatchObject({ state: 'Empty', members: [] })
    expect(coordinator.leave({ groupId: 'g', memberIds: [a.memberId] }).members[0]!.errorCode)
      .toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('expires a silent member after its session timeout and rebalances the rest', async () => {
    const { a, b, clock, coordinator } = await stableGroupOfTwo()
    let notified = 0
    coordinator.onRebalance('g', () => notified++)
    // A heartbeats; B stays silent.
    for (let i = 0; i < 4; i++) {
      clock.advance(SESSION_MS / 4)
      expect(coordinator.heartbeat({ groupId: 'g', memberId: a.memberId,
        generationId: a.generationId })).toBe(i < 3 ? 0 : GroupErrorCode.REBALANCE_IN_PROGRESS)
    }
    expect(notified).toBe(1)
    const rejoined = await coordinator.join(joinRequest(a.memberId))
    expect(rejoined.members.map((m) => m.memberId)).toEqual([a.memberId])
    expect(coordinator.heartbeat({ groupId: 'g', memberId: b.memberId, generationId: 3 }))
      .toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('never expires a member parked in JoinGroup, and drops laggards at the rebalance timeout',
    async () => {
      const { a, b, clock, coordinator } = await stableGroupOfTwo()
      const parked = coordinator.join(joinRequest(a.memberId, ['range', 'other']))
      let answered = false
      void parked.then(() => { answered = true })
      // B keeps heartbeating (so it is not expired) but never rejoins.
      for (let elapsed = 0; elapsed < REBALANCE_MS - SESSION_MS; elapsed += SESSION_MS / 2) {
        clock.advance(SESSION_MS / 2)
        coordinator.heartbeat({ groupId: 'g', memberId: b.memberId, generationId: b.generationId })
      }
      await Promise.resolve()
      expect(answered).toBe(false)
      clock.advance(SESSION_MS)
      const done = await parked
      expect(done.members.map((m) => m.memberId)).toEqual([a.memberId])
    })

  it('refuses bad session timeouts, empty group ids and protocols no member shares', async () => {
    const { coordinator } = await setup()
    expect((await coordinator.join({ ...joinRequest(), sessionTimeoutMs: 10 })).errorCode)
      .toBe(GroupErrorCode.INVALID_SESSION_TIMEOUT)
    expect((await coordinator.join({ ...joinRequest(), groupId: '' })).errorCode)
      .toBe(GroupErrorCode.INVALID_GROUP_ID)
    await joinNew(coordinator)
    const other = await coordinator.join({ ...joinRequest('', ['roundrobin']),
      requireKnownMemberId: false })
    expect(other.errorCode).toBe(GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL)
  })

  it('chooses the protocol most members prefer among those all support', async () => {
    const { coordinator } = await setup()
    const first = await coordinator.join({ ...joinRequest('', ['b', 'a']),
      requireKnownMemberId: false })
    expect(first.protocolName).toBe('b')
    const second = coordinator.join({ ...joinRequest('', ['a', 'b']), requireKnownMemberId: false })
    const third = coordinator.join({ ...joinRequest('', ['a']), requireKnownMemberId: false })
    const firstAgain = coordinator.join(joinRequest(first.memberId, ['b', 'a']))
    const answers = await Promise.all([second, third, firstAgain])
    expect(answers.map((r) => r.protocolName)).toEqual(['a', 'a', 'a'])
  })
})

describe('offsets', () => {
  it('commits for the current generation and fetches -1 for what was never committed',
    async () => {
      const { a, coordinator } = await stableGroupOfTwo()
      const outcomes = await coordinator.commitOffsets({ groupId: 'g', memberId: a.memberId,
        generationId: a.generationId, offsets: [
          { topic: 't', partition: 0, offset: 42, metadata: 'm' },
          { topic: 't', partition: 1, offset: 7, metadata: 'x'.repeat(5000) },
        ] })
      expect(outcomes.map((o) => o.errorCode))
        .toEqual([0, GroupErrorCode.OFFSET_METADATA_TOO_LARGE])
      const topics = [{ topic: 't', partitions: [0, 1] }]
      expect(coordinator.fetchOffsets({ groupId: 'g', topics }))
        .toEqual([
          { topic: 't', partition: 0, offset: 42, metadata: 'm', leaderEpoch: -1 },
          { topic: 't', partition: 1, offset: -1, metadata: null, leaderEpoch: -1 },
        ])
      const stale = await coordinator.commitOffsets({ groupId: 'g', memberId: a.memberId,
        generationId: 1, offsets: [{ topic: 't', partition: 0, offset: 1, metadata: null }] })
      expect(stale[0]!.errorCode).toBe(GroupErrorCode.ILLEGAL_GENERATION)
    })

  it('keeps no group for refused joins, and forgets groups left with nothing', async () => {
    const { clock, coordinator } = await setup()
    for (let i = 0; i < 100; i++) {
      const refused = await coordinator.join({ ...joinRequest(), groupId: `bad-${i}`,
        protocolType: '' })
      expect(refused.errorCode).toBe(GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    }
    // A v4+ join that never comes back: its pending id expires with the session timeout.
    await coordinator.join({ ...joinRequest(), groupId: 'abandoned' })
    expect(coordinator.listGroups().map((g) => g.groupId)).toEqual(['abandoned'])
    clock.advance(SESSION_MS + 1)
    expect(coordinator.listGroups().map((g) => g.state)).toEqual(['Empty'])
    clock.advance(GROUP_CLEANUP_DELAY_MS)
    expect(coordinator.listGroups()).toEqual([])
    // A member that joins and leaves, having committed nothing, leaves no group behind.
    const joined = await (await joinNew(coordinator)).parked
    coordinator.leave({ groupId: 'g', memberIds: [joined.memberId] })
    expect(coordinator.listGroups().map((g) => g.state)).toEqual(['Empty'])
    clock.advance(GROUP_CLEANUP_DELAY_MS)
    expect(coordinator.listGroups()).toEqual([])
  })

  it('answers NOT_COORDINATOR, applying nothing, when the offsets log refuses a commit',
    async () => {
      const store = new MemoryOffsetStore()
      const coordinator = await GroupCoordinator.open({ store, clock: new FakeClock() })
      const commit = (offset: number) => coordinator.commitOffsets({ groupId: 'g', memberId: '',
        generationId: -1, offsets: [{ topic: 't', partition: 0, offset, metadata: null }] })
      await commit(5)
      const write = store.write.bind(store)
      store.write = async () => { throw new Error('disk full') }
      expect((await commit(9))[0]!.errorCode).toBe(GroupErrorCode.NOT_COORDINATOR)
      expect(coordinator.fetchOffsets({ groupId: 'g', topics: [{ topic: 't',
        partitions: [0] }] })[0]!.offset).toBe(5)
      store.write = write
      expect((await commit(10))[0]!.errorCode).toBe(0)
    })

  it('replaces a restarted static member at once, without waiting out its timeouts', async () => {
    const { coordinator } = await setup()
    const staticJoin = (instance: string, memberId = '') =>
      coordinator.join({ ...joinRequest(memberId), groupInstanceId: instance })
    // Static members skip the member-id round trip.
    const a = await staticJoin('inst-a')
    expect(a.errorCode).toBe(0)
    expect(a.members.map((m) => m.groupInstanceId)).toEqual(['inst-a'])
    await coordinator.sync({ groupId: 'g', memberId: a.memberId, generationId: a.generationId,
      assignments: [{ memberId: a.memberId, assignment: Buffer.from('all') }] })
    // inst-a restarts without leaving: its new incarnation joins with no member id.
    const again = await staticJoin('inst-a')
    expect(again.errorCode).toBe(0)
    expect(again.memberId).not.toBe(a.memberId)
    expect(again.generationId).toBeGreaterThan(a.generationId)
    expect(coordinator.heartbeat({ groupId: 'g', memberId: a.memberId,
      generationId: a.generationId })).toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
    expect(coordinator.describeGroups(['g'])[0]!.members.map((m) => m.memberId))
      .toEqual([again.memberId])
  })

  it('cuts a long client id in the member id so it stays a short string', async () => {
    const { coordinator } = await setup()
    const first = await coordinator.join({ ...joinRequest(), clientId: 'c'.repeat(32_000) })
    expect(first.errorCode).toBe(GroupErrorCode.MEMBER_ID_REQUIRED)
    expect(first.memberId.length).toBeLessThan(300)
  })

  it('checks a commit as Kafka does: group, member, generation, then rebalance', async () => {
    const { coordinator } = await setup()
    const commit = (groupId: string, memberId: string, generationId: number) =>
      coordinator.commitOffsets({ groupId, memberId, generationId,
        offsets: [{ topic: 't', partition: 0, offset: 1, metadata: null }] })
      .then((outcomes) => outcomes[0]!.errorCode)
    expect(await commit('nobody', 'm', 3)).toBe(GroupErrorCode.ILLEGAL_GENERATION)
    const joined = await (await joinNew(coordinator)).parked // CompletingRebalance until sync
    expect(await commit('g', 'stranger', joined.generationId))
      .toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
    expect(await commit('g', joined.memberId, joined.generationId - 1))
      .toBe(GroupErrorCode.ILLEGAL_GENERATION)
    expect(await commit('g', joined.memberId, joined.generationId))
      .toBe(GroupErrorCode.REBALANCE_IN_PROGRESS)
  })

  it('keeps a group a member joined while its deletion was being stored', async () => {
    const store = new MemoryOffsetStore()
    const coordinator = await GroupCoordinator.open({ store, clock: new FakeClock() })
    await coordinator.commitOffsets({ groupId: 'g', memberId: '', generationId: -1,
      offsets: [{ topic: 't', partition: 0, offset: 4, metadata: null }] })
    const write = store.write.bind(store)
    let release: () => void = () => undefined
    const writing = new Promise<void>((called) => {
      store.write = (records) => new Promise<void>((resolve) => {
        release = () => void write(records).then(resolve)
        called()
      })
    })
    const deleting = coordinator.deleteGroups(['g'])
    await writing // the tombstones are being stored: now a member joins
    const joined = coordinator.join({ ...joinRequest(), requireKnownMemberId: false })
    release()
    expect(await deleting).toEqual([{ groupId: 'g', errorCode: GroupErrorCode.NON_EMPTY_GROUP }])
    expect((await joined).errorCode).toBe(0)
    expect(coordinator.describeGroups(['g'])[0]!.members).toHaveLength(1)
    // A store that refuses the tombstones leaves the group, and its offsets, as they were.
    store.write = write
    await coordinator.commitOffsets({ groupId: 'h', memberId: '', generationId: -1,
      offsets: [{ topic: 't', partition: 0, offset: 7, metadata: null }] })
    store.write = async () => { throw new Error('disk full') }
    expect(await coordinator.deleteGroups(['h'])).toEqual([
      { groupId: 'h', errorCode: GroupErrorCode.NOT_COORDINATOR }])
    expect(coordinator.fetchOffsets({ groupId: 'h', topics: [{ topic: 't', partitions: [0] }] })[0]!
      .offset).toBe(7)
  })

  it('accepts simple commits only on an Empty group', async () => {
    const { coordinator } = await stableGroupOfTwo()
    const simple = { memberId: '', generationId: -1,
      offsets: [{ topic: 't', partition: 0, offset: 5, metadata: null }] }
    expect((await coordinator.commitOffsets({ groupId: 'g', ...simple }))[0]!.errorCode)
      .toBe(GroupErrorCode.UNKNOWN_MEMBER_ID)
    expect((await coordinator.commitOffsets({ groupId: 'other', ...simple }))[0]!.errorCode)
      .toBe(0)
    expect(coordinator.listGroups().map((g) => g.groupId).sort()).toEqual(['g', 'other'])
  })

  it('restores committed offsets from the store, and forgets deleted groups', async () => {
    const { store, coordinator } = await setup()
    const commit = (groupId: string, offset: number) => coordinator.commitOffsets({
      groupId, memberId: '', generationId: -1,
      offsets: [{ topic: 't', partition: 3, offset, metadata: null }],
    })
    await commit('kept', 10)
    await commit('kept', 11)
    await commit('doomed', 5)
    expect(await coordinator.deleteGroups(['doomed', 'missing'])).toEqual([
      { groupId: 'doomed', errorCode: 0 },
      { groupId: 'missing', errorCode: GroupErrorCode.GROUP_ID_NOT_FOUND },
    ])
    coordinator.close()
    const reopened = await GroupCoordinator.open({ store, clock: new FakeClock() })
    expect(reopened.listGroups()).toEqual([{ groupId: 'kept', protocolType: '', state: 'Empty' }])
    expect(reopened.fetchOffsets({ groupId: 'kept', topics: null })[0]!.offset).toBe(11)
    expect(reopened.fetchOffsets({ groupId: 'doomed', topics: null })).toEqual([])
  })

  it('refuses to delete a group that has members', async () => {
    const { coordinator } = await stableGroupOfTwo()
    expect(await coordinator.deleteGroups(['g']))
      .toEqual([{ groupId: 'g', errorCode: GroupErrorCode.NON_EMPTY_GROUP }])
    expect(coordinator.describeGroups(['nope'])[0]).toEqual(
      { groupId: 'nope', state: 'Dead', protocolType: '', protocol: '', members: [] })
  })
})
