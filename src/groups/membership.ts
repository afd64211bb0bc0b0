/**
 * Group membership: the rebalance state machine (group.ts draws it) and its timers, for every
 * group of one coordinator. Members join and park until the rebalance completes, the leader's
 * SyncGroup makes the group Stable, a session that lapses removes its member (and starts a new
 * rebalance), ids handed out with MEMBER_ID_REQUIRED expire unless used, and a group left with
 * nothing is forgotten after GROUP_CLEANUP_DELAY_MS.
 *
 * The coordinator (coordinator.ts) validates each request and decides which transition it asks
 * for; this module performs the transitions, including those a timer on the GroupClock fires
 * with no request at all. Semantics follow kafka-protocol.md §4.
 *
 * Invariants: a member with a parked JoinGroup or SyncGroup is never expired; a parked request
 * is answered exactly once (a newer one from the same member answers the older with
 * REBALANCE_IN_PROGRESS); every member in a group has a session timer running.
 */
import { isUnused, joinError, newMember, syncError, type Group, type Member } from './group.js'
import {
  GroupErrorCode, type GroupClock, type JoinGroupRequest, type JoinGroupResponse,
  type SyncGroupRequest,
} from './types.js'

/** Kafka's offsets.retention.check.interval.ms: how often it removes groups left empty. */
export const GROUP_CLEANUP_DELAY_MS = 10 * 60 * 1000

export class GroupMembership {
  private readonly rebalanceListeners = new Map<string, Set<() => void>>()

  /** `groups` is the coordinator's map; unused groups are dropped from it. */
  constructor(
    private readonly groups: Map<string, Group>,
    private readonly clock: GroupClock,
  ) {}

  /** See GroupCoordinator.onRebalance. */
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

  // ---- pending member ids (JoinGroup v4+) ------------------------------------------------

  /** Holds `memberId` for the member's next JoinGroup; forgotten after `sessionTimeoutMs`. */
  addPendingMember(group: Group, memberId: string, sessionTimeoutMs: number): void {
    const cancel = this.clock.schedule(sessionTimeoutMs, () => {
      group.pendingMembers.delete(memberId)
      this.dropIfUnused(group)
    })
    group.pendingMembers.set(memberId, cancel)
  }

  /** Stops holding `memberId`; false if it was not pending. */
  takePendingMember(group: Group, memberId: string): boolean {
    const pendingCancel = group.pendingMembers.get(memberId)
    if (pendingCancel === undefined) return false
    pendingCancel()
    group.pendingMembers.delete(memberId)
    return true
  }

  // ---- joining and syncing ---------------------------------------------------------------

  /** Adds a member with its session running, and parks its JoinGroup. */
  addMember(group: Group, memberId: string, request: JoinGroupRequest)
    : Promise<JoinGroupResponse> {
    const member = newMember(memberId, request)
    if (group.members.size === 0) group.protocolType = request.protocolType
    group.members.set(memberId, member)
    this.refreshSession(group, member)
    return this.parkJoin(group, member)
  }

  /** Parks the member's JoinGroup until the rebalance completes, starting one if needed. */
  parkJoin(group: Group, member: Member): Promise<JoinGroupResponse> {
    const parked = new Promise<JoinGroupResponse>((resolve) => {
      member.awaitingJoin?.(joinError(GroupErrorCode.REBALANCE_IN_PROGRESS, member.memberId))
      member.awaitingJoin = resolve
    })
    if (group.state === 'PreparingRebalance') this.tryCompleteJoin(group)
    else this.prepareRebalance(group)
    return parked
  }

  /** The leader's SyncGroup: stores the assignments, makes the group Stable, answers all. */
  completeSync(group: Group, request: SyncGroupRequest): void {
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

  // ---- sessions and removal --------------------------------------------------------------

  /** Restarts the member's session timer: it is expired after sessionTimeoutMs of silence. */
  refreshSession(group: Group, member: Member): void {
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

  /** Removes a member (leave, expiry, fencing): its parked requests fail, the group rebalances. */
  removeMember(group: Group, member: Member): void {
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
  fenceInstance(group: Group, groupInstanceId: string): void {
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
  dropIfUnused(group: Group): void {
    if (!isUnused(group) || group.cancelCleanup !== null) return
    group.cancelCleanup = this.clock.schedule(GROUP_CLEANUP_DELAY_MS, () => {
      group.cancelCleanup = null
      if (isUnused(group) && this.groups.get(group.groupId) === group) {
        this.groups.delete(group.groupId)
      }
    })
  }
}
