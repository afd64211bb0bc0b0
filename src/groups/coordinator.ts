/**
 * The group coordinator: Kafka's consumer-group protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups) over
 * protocol-neutral requests (./types.ts). The embedded client and the Kafka wire protocol both
 * drive this one coordinator. Semantics follow kafka-protocol.md §4 rule by rule.
 *
 * This file owns the membership state machine (join, sync, heartbeat, leave, rebalance, session
 * expiry, static-member fencing, cleanup of unused groups) and the map of groups; the offset
 * side (commit checks, record building, fetch) is ./committed-offsets.ts and the administration
 * side (describe, list, delete) is ./group-admin.ts. The class sequences them.
 *
 * Time comes from a GroupClock (session expiry, rebalance timeout), so tests advance it by hand.
 * Committed offsets go to an OffsetStore before a commit is answered, and are replayed on open.
 *
 * Invariants: a commit is visible to fetchOffsets only once the store has it; store writes are
 * applied in the order they were issued; a member with a parked request is never expired.
 */
import {
  Group, groupFor, isUnused, joinError, newMember, newMemberId, sameProtocols, syncError,
  type Member,
} from './group.js'
import {
  SerialWriter, applyRecord, checkCommit, commitRecords, fetchCommitted, refuseCommit,
  replayOffsets,
} from './committed-offsets.js'
import { deleteGroups, describeGroups, listGroups } from './group-admin.js'
import type { OffsetStore } from './offset-store.js'
import {
  GroupErrorCode, systemClock, type DeleteGroupOutcome, type FetchedOffset, type GroupClock,
  type GroupDescription, type GroupErrorCodeValue, type GroupListing, type HeartbeatRequest,
  type JoinGroupRequest, type JoinGroupResponse, type LeaveGroupRequest, type LeaveGroupResponse,
  type OffsetCommitRequest, type OffsetFetchRequest, type PartitionOutcome, type SyncGroupRequest,
  type SyncGroupResponse,
} from './types.js'

export interface CoordinatorOptions {
  store: OffsetStore
  clock?: GroupClock
  /** Kafka's group.min.session.timeout.ms. Default 6000. */
  minSessionTimeoutMs?: number
  /** Kafka's group.max.session.timeout.ms. Default 1800000. */
  maxSessionTimeoutMs?: number
  /** Kafka's offset.metadata.max.bytes. Default 4096. */
  maxOffsetMetadataBytes?: number
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>()
  private readonly rebalanceListeners = new Map<string, Set<() => void>>()
  private readonly clock: GroupClock
  private readonly minSessionTimeoutMs: number
  private readonly maxSessionTimeoutMs: number
  private readonly maxOffsetMetadataBytes: number
  private readonly writer: SerialWriter
  private closed = false

  private constructor(private readonly store: OffsetStore, options: CoordinatorOptions) {
    this.clock = options.clock ?? systemClock
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? 6000
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? 1_800_000
    this.maxOffsetMetadataBytes = options.maxOffsetMetadataBytes ?? 4096
    this.writer = new SerialWriter(store)
  }

  /** Replays the store: every group with committed offsets comes back Empty. */
  static async open(options: CoordinatorOptions): Promise<GroupCoordinator> {
    const coordinator = new GroupCoordinator(options.store, options)
    replayOffsets(coordinator.groups, await options.store.load())
    return coordinator
  }

  // ---- membership ------------------------------------------------------------------------

  join(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    const refused = this.checkJoin(request)
    if (refused !== null) return Promise.resolve(joinError(refused, request.memberId))
    // A refused join must not leave a group behind: it is registered only once accepted.
    const group = this.groups.get(request.groupId) ?? new Group(request.groupId)
    if (!group.supports(request.protocolType, request.protocols, request.memberId)) {
      return Promise.resolve(joinError(GroupErrorCode.INCONSISTENT_GROUP_PROTOCOL,
        request.memberId))
    }
    if (request.memberId === '') {
      this.groups.set(group.groupId, group)
      const memberId = newMemberId(request.clientId)
      const instanceId = request.groupInstanceId ?? null
      if (instanceId !== null) {
        // A static member that restarted: its old incarnation is gone for good, so it is
        // removed now (a prompt rebalance) instead of after its session or rebalance timeout.
        // Static members are exempt from the member-id round trip (KIP-394), as in Kafka.
        this.fenceInstance(group, instanceId)
        return this.joinAsMember(group, memberId, request)
      }
      if (!request.requireKnownMemberId) return this.joinAsMember(group, memberId, request)
      const cancel = this.clock.schedule(request.sessionTimeoutMs, () => {
        group.pendingMembers.delete(memberId)
        this.dropIfUnused(group)
      })
      group.pendingMembers.set(memberId, cancel)
      return Promise.resolve(joinError(GroupErrorCode.MEMBER_ID_REQUIRED, memberId))
    }
    const pendingCancel = group.pendingMembers.get(request.memberId)
    if (pendingCancel !== undefined) {
      pendingCancel()
      group.pendingMembers.delete(request.memberId)
      return this.joinAsMember(group, request.memberId, request)
    }
    const member = group.members.get(request.memberId)
    if (member === undefined) {
      return Promise.resolve(joinError(GroupErrorCode.UNKNOWN_MEMBER_ID, request.memberId))
    }
    return this.rejoin(group, member, request)
  }

  sync(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    const group = this.groups.get(request.groupId)
    const member = group?.members.get(request.memberId)
    if (group === undefined || member === undefined) {
      return Promise.resolve(syncError(GroupErrorCode.UNKNOWN_MEMBER_ID))
    }
    if (request.generationId !== group.generationId) {
      return Promise.resolve(syncError(GroupErrorCode.ILLEGAL_GENERATION))
    }
    if (group.state === 'PreparingRebalance') {
      return Promise.resolve(syncError(GroupErrorCode.REBALANCE_IN_PROGRESS))
    }
    this.refreshSession(group, member)
    if (group.state === 'Stable') {
      return Promise.resolve({ errorCode: GroupErrorCode.NONE, assignment: member.assignment })
    }
    const parked = new Promise<SyncGroupResponse>((resolve) => {
      member.awaitingSync?.(syncError(GroupErrorCode.REBALANCE_IN_PROGRESS))
      member.awaitingSync = resolve
    })
    if (request.memberId === group.leaderId) this.completeSync(group, request)
    return parked
  }

  heartbeat(request: HeartbeatRequest): GroupErrorCodeValue {
    const group = this.groups.get(request.groupId)
    const member = group?.members.get(request.memberId)
    if (group === undefined || member === undefined) return GroupErrorCode.UNKNOWN_MEMBER_ID
    if (request.generationId !== group.generationId) return GroupErrorCode.ILLEGAL_GENERATION
    this.refreshSession(group, member)
    return group.state === 'PreparingRebalance'
      ? GroupErrorCode.REBALANCE_IN_PROGRESS : GroupErrorCode.NONE
  }

  leave(request: LeaveGroupRequest): LeaveGroupResponse {
    const group = this.groups.get(request.groupId)
    return {
      members: request.memberIds.map((memberId) => {
        const pendingCancel = group?.pendingMembers.get(memberId)
        if (group !== undefined && pendingCancel !== undefined) {
          pendingCancel()
          group.pendingMembers.delete(memberId)
          this.dropIfUnused(group)
          return { memberId, errorCode: GroupErrorCode.NONE }
        }
        const member = group?.members.get(memberId)
        if (group === undefined || member === undefined) {
          return { memberId, errorCode: GroupErrorCode.UNKNOWN_MEMBER_ID }
        }
        this.removeMember(group, member)
        return { memberId, errorCode: GroupErrorCode.NONE }
      }),
    }
  }

  /**
   * Calls `listener` whenever the group starts a rebalance. Embedded members use it to rejoin
   * at once instead of waiting for their next heartbeat; the wire protocol has no such push.
   */
  onRebalance(groupId: string, listener: () => void): () => void {
    let listeners = this.rebalanceListeners.get(groupId)
    if (listeners === undefined) {
      listeners = new Set()
      this.rebalanceListeners.set(groupId, listeners)
    }
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) this.rebalanceListeners.delete(groupId)
    }
  }

  // ---- offsets ---------------------------------------------------------------------------

  async commitOffsets(request: OffsetCommitRequest): Promise<PartitionOutcome[]> {
    const refused = checkCommit(this.groups.get(request.groupId), request)
    if (refused !== null) return refuseCommit(request, refused)
    const group = groupFor(this.groups, request.groupId)
    const member = group.members.get(request.memberId)
    if (member !== undefined) this.refreshSession(group, member)
    const { records, outcomes } = commitRecords(group.groupId, request, this.clock.now(),
      this.maxOffsetMetadataBytes)
    try {
      await this.writer.write(records)
    } catch {
      // The offsets log refused the write (a storage error): each partition is answered as
      // Kafka answers it, a retriable NOT_COORDINATOR, and nothing is applied.
      return refuseCommit(request, GroupErrorCode.NOT_COORDINATOR)
    }
    // Looked up again: the group may have been deleted or cleaned up while the write was pending.
    for (const record of records) applyRecord(groupFor(this.groups, record.groupId), record)
    return outcomes
  }

  fetchOffsets(request: OffsetFetchRequest): FetchedOffset[] {
    return fetchCommitted(this.groups.get(request.groupId), request)
  }

  // ---- administration --------------------------------------------------------------------

  describeGroups(groupIds: string[]): GroupDescription[] {
    return describeGroups(this.groups, groupIds)
  }

  listGroups(): GroupListing[] {
    return listGroups(this.groups)
  }

  // Not async: the promise is deleteGroups' own, so no extra microtask turn is added.
  deleteGroups(groupIds: string[]): Promise<DeleteGroupOutcome[]> {
    return deleteGroups(this.groups, this.writer, groupIds)
  }

  /** Cancels every timer and answers parked requests; members must rejoin a new coordinator. */
  close(): void {
    if (this.closed) return
    this.closed = true
    for (const group of this.groups.values()) {
      group.cancelRebalanceTimer?.()
      for (const cancel of group.pendingMembers.values()) cancel()
      for (const member of [...group.members.values()]) {
        member.cancelSession?.()
        member.awaitingJoin?.(joinError(GroupErrorCode.UNKNOWN_MEMBER_ID, member.memberId))
        member.awaitingSync?.(syncError(GroupErrorCode.UNKNOWN_MEMBER_ID))
      }
    }
    this.groups.clear()
  }

  // ---- state machine ---------------------------------------------------------------------

  private checkJoin(request: JoinGroupRequest): GroupErrorCodeValue | null {
    if (this.closed) return GroupErrorCode.UNKNOWN_MEMBER_ID
    if (typeof request.groupId !== 'string' || request.groupId.length === 0) {
      return GroupErrorCode.INVALID_GROUP_ID
    }
    const sessionMs = request.sessionTimeoutMs
    if (!Number.isInteger(sessionMs) || sessionMs < this.minSessionTimeoutMs
      || sessionMs > this.maxSessionTimeoutMs) {
      return GroupErrorCode.INVALID_SESSION_TIMEOUT
    }
    return null
  }

  private joinAsMember(group: Group, memberId: string, request: JoinGroupRequest)
    : Promise<JoinGroupResponse> {
    const member = newMember(memberId, request)
    if (group.members.size === 0) group.protocolType = request.protocolType
    group.members.set(memberId, member)
    this.refreshSession(group, member)
    return this.parkJoin(group, member)
  }

  private rejoin(group: Group, member: Member, request: JoinGroupRequest)
    : Promise<JoinGroupResponse> {
    const unchanged = sameProtocols(member.protocols, request.protocols)
    this.refreshSession(group, member)
    if (unchanged && group.state === 'CompletingRebalance') {
      return Promise.resolve(group.joinResponse(member.memberId))
    }
    if (unchanged && group.state === 'Stable' && member.memberId !== group.leaderId) {
      return Promise.resolve({ ...group.joinResponse(member.memberId), members: [] })
    }
    member.protocols = request.protocols
    member.sessionTimeoutMs = request.sessionTimeoutMs
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
    return this.parkJoin(group, member)
  }

  private parkJoin(group: Group, member: Member): Promise<JoinGroupResponse> {
    const parked = new Promise<JoinGroupResponse>((resolve) => {
      member.awaitingJoin?.(joinError(GroupErrorCode.REBALANCE_IN_PROGRESS, member.memberId))
      member.awaitingJoin = resolve
    })
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group)
    else this.prepareRebalance(group)
    return parked
  }

  private prepareRebalance(group: Group): void {
    if (group.state === 'CompletingRebalance') {
      for (const member of group.members.values()) {
        member.awaitingSync?.(syncError(GroupErrorCode.REBALANCE_IN_PROGRESS))
        member.awaitingSync = null
      }
    }
    group.state = 'PreparingRebalance'
    group.cancelRebalanceTimer?.()
    group.cancelRebalanceTimer = this.clock.schedule(group.maxRebalanceTimeoutMs(),
      () => this.completeJoin(group))
    for (const listener of this.rebalanceListeners.get(group.groupId) ?? []) listener()
    this.tryCompleteJoin(group)
  }

  private tryCompleteJoin(group: Group): void {
    if (group.state === 'PreparingRebalance' && group.allMembersJoined()) this.completeJoin(group)
  }

  /** Ends the join phase: members that did not rejoin are dropped, the generation advances. */
  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return
    group.cancelRebalanceTimer?.()
    group.cancelRebalanceTimer = null
    for (const member of [...group.members.values()]) {
      if (member.awaitingJoin === null) this.forget(group, member)
    }
    group.generationId++
    if (group.members.size === 0) {
      group.state = 'Empty'
      group.protocolName = ''
      group.leaderId = ''
      this.dropIfUnused(group)
      return
    }
    group.protocolName = group.selectProtocol()
    if (!group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!
    group.state = 'CompletingRebalance'
    for (const member of group.members.values()) {
      member.assignment = Buffer.alloc(0)
      const answer = member.awaitingJoin!
      member.awaitingJoin = null
      this.refreshSession(group, member)
      answer(group.joinResponse(member.memberId))
    }
  }

  private completeSync(group: Group, request: SyncGroupRequest): void {
    for (const { memberId, assignment } of request.assignments) {
      const member = group.members.get(memberId)
      if (member !== undefined) member.assignment = assignment
    }
    group.state = 'Stable'
    for (const member of group.members.values()) {
      const answer = member.awaitingSync
      member.awaitingSync = null
      answer?.({ errorCode: GroupErrorCode.NONE, assignment: member.assignment })
    }
  }

  private refreshSession(group: Group, member: Member): void {
    member.cancelSession?.()
    member.cancelSession = this.clock.schedule(member.sessionTimeoutMs,
      () => this.expireSession(group, member))
  }

  private expireSession(group: Group, member: Member): void {
    member.cancelSession = null
    if (group.members.get(member.memberId) !== member) return
    // Kafka keeps a member alive while it waits in JoinGroup or SyncGroup.
    if (member.awaitingJoin !== null || member.awaitingSync !== null) {
      this.refreshSession(group, member)
      return
    }
    this.removeMember(group, member)
  }

  private removeMember(group: Group, member: Member): void {
    this.forget(group, member)
    member.awaitingJoin?.(joinError(GroupErrorCode.UNKNOWN_MEMBER_ID, member.memberId))
    member.awaitingSync?.(syncError(GroupErrorCode.UNKNOWN_MEMBER_ID))
    member.awaitingJoin = null
    member.awaitingSync = null
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group)
    else if (group.state === 'Stable' || group.state === 'CompletingRebalance') {
      this.prepareRebalance(group)
    }
  }

  /** Removes the current member holding `groupInstanceId`, if any (its id is then unknown). */
  private fenceInstance(group: Group, groupInstanceId: string): void {
    for (const member of group.members.values()) {
      if (member.groupInstanceId === groupInstanceId) {
        this.removeMember(group, member)
        return
      }
    }
  }

  private forget(group: Group, member: Member): void {
    member.cancelSession?.()
    member.cancelSession = null
    group.members.delete(member.memberId)
  }

  /**
   * Forgets a group that holds nothing (no members, none pending, no committed offsets) after
   * GROUP_CLEANUP_DELAY_MS, as Kafka's periodic group cleanup does: until then it is described
   * as Empty, as on Kafka. Without this, every group id ever tried would stay listed and in
   * memory for the broker's life.
   */
  private dropIfUnused(group: Group): void {
    if (!isUnused(group) || group.cancelCleanup !== null) return
    group.cancelCleanup = this.clock.schedule(GROUP_CLEANUP_DELAY_MS, () => {
      group.cancelCleanup = null
      if (isUnused(group) && this.groups.get(group.groupId) === group) {
        this.groups.delete(group.groupId)
      }
    })
  }
}

/** Kafka's offsets.retention.check.interval.ms: how often it removes groups left empty. */
export const GROUP_CLEANUP_DELAY_MS = 10 * 60 * 1000

