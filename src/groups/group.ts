/**
 * One consumer group's in-memory state: its members, generation, chosen protocol, leader, parked
 * JoinGroup/SyncGroup requests and committed offsets. GroupMembership (membership.ts) drives the
 * state machine (kafka-protocol.md §4); this module holds the data and the pure decisions on it.
 *
 *   Empty ──join──▶ PreparingRebalance ──all joined / timer──▶ CompletingRebalance
 *     ▲                  ▲       │ (no members left)                  │ leader's SyncGroup
 *     └──────────────────┼───────┘                                    ▼
 *                        └──────── join / leave / expiry ─────────  Stable
 *   deleteGroups (Empty only) ──▶ Dead (forgotten)
 *
 * Invariants: a member with a parked JoinGroup or SyncGroup is never expired; `leaderId` is a
 * member whenever the state is CompletingRebalance or Stable; generationId only grows.
 */
import { randomUUID } from 'node:crypto'
import type {
  GroupDescription, GroupErrorCodeValue, GroupProtocol, GroupState, JoinGroupRequest,
  JoinGroupResponse, StoredOffset, SyncGroupResponse,
} from './types.js'

export interface Member {
  readonly memberId: string
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocols: GroupProtocol[]
  assignment: Buffer
  /** A parked JoinGroup, answered when the rebalance completes. */
  awaitingJoin: ((response: JoinGroupResponse) => void) | null
  /** A parked SyncGroup, answered when the leader's assignment arrives. */
  awaitingSync: ((response: SyncGroupResponse) => void) | null
  cancelSession: (() => void) | null
  /** group.instance.id of a static member, null for a dynamic one. */
  groupInstanceId: string | null
}

export interface CommittedOffset extends StoredOffset {
  topic: string
  partition: number
}

export class Group {
  state: GroupState = 'Empty'
  generationId = 0
  protocolType = ''
  protocolName = ''
  leaderId = ''
  readonly members = new Map<string, Member>()
  /** JoinGroup v4+: ids handed out with MEMBER_ID_REQUIRED, each with its expiry's cancel. */
  readonly pendingMembers = new Map<string, () => void>()
  readonly offsets = new Map<string, CommittedOffset>()
  cancelRebalanceTimer: (() => void) | null = null
  /** The pending removal of this group once it holds nothing (see GroupMembership). */
  cancelCleanup: (() => void) | null = null

  constructor(readonly groupId: string) {}

  allMembersJoined(): boolean {
    for (const member of this.members.values()) if (member.awaitingJoin === null) return false
    return true
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0
    for (const member of this.members.values()) max = Math.max(max, member.rebalanceTimeoutMs)
    return max
  }

  /** Protocol names every member supports (Kafka's candidateProtocols). */
  candidateProtocols(except?: string): Set<string> | null {
    const sets = [...this.members.values()]
      .filter((member) => member.memberId !== except)
      .map((member) => new Set<string>(member.protocols.map((p) => p.name)))
    if (sets.length === 0) return null
    return sets.reduce((common, names) => new Set([...common].filter((n) => names.has(n))))
  }

  /** Whether a member offering these protocols may join (Kafka's supportsProtocols). */
  supports(protocolType: string, protocols: GroupProtocol[], memberId: string): boolean {
    if (protocolType.length === 0 || protocols.length === 0) return false
    const candidates = this.candidateProtocols(memberId)
    if (candidates === null) return true
    return protocolType === this.protocolType && protocols.some((p) => candidates.has(p.name))
  }

  /** Each member votes for its most preferred candidate; the most votes wins. */
  selectProtocol(): string {
    const candidates = this.candidateProtocols() ?? new Set<string>()
    const votes = new Map<string, number>()
    let first: string | null = null
    for (const member of this.members.values()) {
      const choice = member.protocols.find((p) => candidates.has(p.name))?.name
      if (choice === undefined) continue
      first ??= choice
      votes.set(choice, (votes.get(choice) ?? 0) + 1)
    }
    let best = first ?? ''
    for (const [name, count] of votes) if (count > (votes.get(best) ?? 0)) best = name
    return best
  }

  metadataOf(member: Member): Buffer {
    return member.protocols.find((p) => p.name === this.protocolName)?.metadata ?? Buffer.alloc(0)
  }

  /** DescribeGroups: the protocol is named only once the rebalance has chosen it. */
  describe(): GroupDescription {
    const chosen = this.state === 'Stable' || this.state === 'CompletingRebalance'
    return {
      groupId: this.groupId,
      state: this.state,
      protocolType: this.protocolType,
      protocol: chosen ? this.protocolName : '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost,
        metadata: this.metadataOf(m), assignment: m.assignment,
      })),
    }
  }

  /** The JoinGroup answer for `memberId` in the current generation. */
  joinResponse(memberId: string): JoinGroupResponse {
    const isLeader = memberId === this.leaderId
    return {
      errorCode: 0,
      generationId: this.generationId,
      protocolName: this.protocolName,
      leaderId: this.leaderId,
      memberId,
      members: isLeader
        ? [...this.members.values()]
          .map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId,
            metadata: this.metadataOf(m) }))
        : [],
    }
  }
}

/** The group `groupId` in `groups`, created Empty and registered if it is not there. */
export function groupFor(groups: Map<string, Group>, groupId: string): Group {
  let group = groups.get(groupId)
  if (group === undefined) {
    group = new Group(groupId)
    groups.set(groupId, group)
  }
  return group
}

/** A member as it joins: nothing assigned, nothing parked, no session timer yet. */
export function newMember(memberId: string, request: JoinGroupRequest): Member {
  return {
    memberId, clientId: request.clientId, clientHost: request.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    protocols: request.protocols, assignment: Buffer.alloc(0),
    awaitingJoin: null, awaitingSync: null, cancelSession: null,
    groupInstanceId: request.groupInstanceId ?? null,
  }
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

export function sameProtocols(a: GroupProtocol[], b: GroupProtocol[]): boolean {
  return a.length === b.length
    && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata))
}

/** Whether the group holds nothing, so the coordinator may forget it (its periodic cleanup). */
export function isUnused(group: Group): boolean {
  return group.state === 'Empty' && group.members.size === 0 && group.pendingMembers.size === 0
    && group.offsets.size === 0
}

/** Kafka's member ids start with the client id; a long one is cut so ids stay short strings. */
const MAX_MEMBER_ID_PREFIX_CHARS = 255

export function newMemberId(clientId: string): string {
  return `${clientId.slice(0, MAX_MEMBER_ID_PREFIX_CHARS)}-${randomUUID()}`
}

const NO_GENERATION = -1

/** A refused or abandoned JoinGroup: no generation, no leader, no members. */
export function joinError(errorCode: GroupErrorCodeValue, memberId: string): JoinGroupResponse {
  return {
    errorCode, generationId: NO_GENERATION, protocolName: '', leaderId: '', memberId, members: [],
  }
}

export function syncError(errorCode: GroupErrorCodeValue): SyncGroupResponse {
  return { errorCode, assignment: Buffer.alloc(0) }
}
