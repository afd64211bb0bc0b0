/**
 * The group coordinator: Kafka's consumer-group protocol (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, OffsetCommit, OffsetFetch, DescribeGroups, ListGroups, DeleteGroups) over
 * protocol-neutral requests (./types.ts). The embedded client and the Kafka wire protocol both
 * drive this one coordinator. Semantics follow kafka-protocol.md §4 rule by rule.
 *
 * This file owns the map of groups and the requests: it checks each one and decides what it
 * asks of the group (the member-id round trip, static-member fencing, whether a rejoin changes
 * anything). The transitions and their timers (rebalance, session expiry, cleanup of unused
 * groups) are ./membership.ts; the offset side (commit checks, record building, fetch) is
 * ./committed-offsets.ts and the administration side (describe, list, delete) is
 * ./group-admin.ts. The class sequences them.
 *
 * Time comes from a GroupClock (session expiry, rebalance timeout), so tests advance it by hand.
 * Committed offsets go to an OffsetStore before a commit is answered, and are replayed on open.
 *
 * Invariants: a commit is visible to fetchOffsets only once the store has it; store writes are
 * applied in the order they were issued; a member with a parked request is never expired.
 */
import {
  Group, groupFor, joinError, newMemberId, sameProtocols, syncError, type Member,
} from './group.js'
import {
  SerialWriter, applyRecord, checkCommit, commitRecords, fetchCommitted, refuseCommit,
  replayOffsets,
} from './committed-offsets.js'
import { deleteGroups, describeGroups, listGroups } from './group-admin.js'
import { GroupMembership } from './membership.js'
import type { OffsetStore } from './offset-store.js'
import {
  GroupErrorCode, systemClock, type DeleteGroupOutcome, type FetchedOffset, type GroupClock,
  type GroupDescription, type GroupErrorCodeValue, type GroupListing, type HeartbeatRequest,
  type JoinGroupRequest, type JoinGroupResponse, type LeaveGroupRequest, type LeaveGroupResponse,
  type OffsetCommitRequest, type OffsetFetchRequest, type PartitionOutcome, type SyncGroupRequest,
  type SyncGroupResponse,
} from './types.js'

export { GROUP_CLEANUP_DELAY_MS } from './membership.js'

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
  private readonly membership: GroupMembership
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
    this.membership = new GroupMembership(this.groups, this.clock)
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
        this.membership.fenceInstance(group, instanceId)
        return this.membership.addMember(group, memberId, request)
      }
      if (!request.requireKnownMemberId) return this.membership.addMember(group, memberId, request)
      this.membership.addPendingMember(group, memberId, request.sessionTimeoutMs)
      return Promise.resolve(joinError(GroupErrorCode.MEMBER_ID_REQUIRED, memberId))
    }
    if (this.membership.takePendingMember(group, request.memberId)) {
      return this.membership.addMember(group, request.memberId, request)
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
    this.membership.refreshSession(group, member)
    if (group.state === 'Stable') {
      return Promise.resolve({ errorCode: GroupErrorCode.NONE, assignment: member.assignment })
    }
    const parked = new Promise<SyncGroupResponse>((resolve) => {
      member.awaitingSync?.(syncError(GroupErrorCode.REBALANCE_IN_PROGRESS))
      member.awaitingSync = resolve
    })
    if (request.memberId === group.leaderId) this.membership.completeSync(group, request)
    return parked
  }

  heartbeat(request: HeartbeatRequest): GroupErrorCodeValue {
    const group = this.groups.get(request.groupId)
    const member = group?.members.get(request.memberId)
    if (group === undefined || member === undefined) return GroupErrorCode.UNKNOWN_MEMBER_ID
    if (request.generationId !== group.generationId) return GroupErrorCode.ILLEGAL_GENERATION
    this.membership.refreshSession(group, member)
    return group.state === 'PreparingRebalance'
      ? GroupErrorCode.REBALANCE_IN_PROGRESS : GroupErrorCode.NONE
  }

  leave(request: LeaveGroupRequest): LeaveGroupResponse {
    const group = this.groups.get(request.groupId)
    return {
      members: request.memberIds.map((memberId) => {
        if (group !== undefined && this.membership.takePendingMember(group, memberId)) {
          this.membership.dropIfUnused(group)
          return { memberId, errorCode: GroupErrorCode.NONE }
        }
        const member = group?.members.get(memberId)
        if (group === undefined || member === undefined) {
          return { memberId, errorCode: GroupErrorCode.UNKNOWN_MEMBER_ID }
        }
        this.membership.removeMember(group, member)
        return { memberId, errorCode: GroupErrorCode.NONE }
      }),
    }
  }

  /**
   * Calls `listener` whenever the group starts a rebalance. Embedded members use it to rejoin
   * at once instead of waiting for their next heartbeat; the wire protocol has no such push.
   */
  onRebalance(groupId: string, listener: () => void): () => void {
    return this.membership.onRebalance(groupId, listener)
  }

  // ---- offsets ---------------------------------------------------------------------------

  async commitOffsets(request: OffsetCommitRequest): Promise<PartitionOutcome[]> {
    const refused = checkCommit(this.groups.get(request.groupId), request)
    if (refused !== null) return refuseCommit(request, refused)
    const group = groupFor(this.groups, request.groupId)
    const member = group.members.get(request.memberId)
    if (member !== undefined) this.membership.refreshSession(group, member)
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

  // ---- request checks --------------------------------------------------------------------

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

  private rejoin(group: Group, member: Member, request: JoinGroupRequest)
    : Promise<JoinGroupResponse> {
    const unchanged = sameProtocols(member.protocols, request.protocols)
    this.membership.refreshSession(group, member)
    if (unchanged && group.state === 'CompletingRebalance') {
      return Promise.resolve(group.joinResponse(member.memberId))
    }
    if (unchanged && group.state === 'Stable' && member.memberId !== group.leaderId) {
      return Promise.resolve({ ...group.joinResponse(member.memberId), members: [] })
    }
    member.protocols = request.protocols
    member.sessionTimeoutMs = request.sessionTimeoutMs
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
    return this.membership.parkJoin(group, member)
  }
}
