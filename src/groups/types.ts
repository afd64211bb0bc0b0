/**
 * The coordinator's protocol-neutral vocabulary: requests and responses shaped like Kafka's
 * JoinGroup / SyncGroup / Heartbeat / LeaveGroup / OffsetCommit / OffsetFetch / DescribeGroups /
 * ListGroups / DeleteGroups, with protocol metadata and assignments as opaque Buffers. Both the
 * embedded client and the Kafka wire protocol speak it; neither's types appear here.
 *
 * Outcomes carry Kafka's numeric error codes (`GroupErrorCode`) rather than throwing: a wire
 * handler copies them into its response, the embedded client turns them into kafkajs errors.
 */

/** Kafka's error codes for the group APIs (Errors.java). */
export const GroupErrorCode = {
  NONE: 0,
  OFFSET_METADATA_TOO_LARGE: 12,
  /** What Kafka answers a commit its offsets log could not store (KAFKA_STORAGE_ERROR). */
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
} as const

export type GroupErrorCodeValue = (typeof GroupErrorCode)[keyof typeof GroupErrorCode]

/** The exact strings Kafka's DescribeGroups and ListGroups use. */
export type GroupState =
  | 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

export interface GroupProtocol {
  name: string
  metadata: Buffer
}

export interface JoinGroupRequest {
  groupId: string
  /** '' for a member joining for the first time. */
  memberId: string
  clientId: string
  clientHost: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  protocolType: string
  /** In the member's order of preference. */
  protocols: GroupProtocol[]
  /**
   * JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with its id and must rejoin with
   * it. False (v0–3) adds the member at once.
   */
  requireKnownMemberId: boolean
  /**
   * KIP-345's group.instance.id (JoinGroup v5+), null for a dynamic member. A join naming the
   * instance id of a current member replaces that member at once (see the coordinator).
   */
  groupInstanceId?: string | null
}

export interface JoinGroupMember {
  memberId: string
  groupInstanceId?: string | null
  metadata: Buffer
}

export interface JoinGroupResponse {
  errorCode: GroupErrorCodeValue
  generationId: number
  protocolName: string
  leaderId: string
  memberId: string
  /** Filled for the leader only: every member's metadata for the chosen protocol. */
  members: JoinGroupMember[]
}

export interface SyncGroupRequest {
  groupId: string
  memberId: string
  generationId: number
  /** The leader sends every member's assignment; followers send none. */
  assignments: { memberId: string; assignment: Buffer }[]
}

export interface SyncGroupResponse {
  errorCode: GroupErrorCodeValue
  assignment: Buffer
}

export interface HeartbeatRequest {
  groupId: string
  memberId: string
  generationId: number
}

export interface LeaveGroupRequest {
  groupId: string
  memberIds: string[]
}

export interface LeaveGroupResponse {
  members: { memberId: string; errorCode: GroupErrorCodeValue }[]
}

export interface CommitOffset {
  topic: string
  partition: number
  /** The next offset to consume. */
  offset: number
  metadata: string | null
  /** Kafka's committed leader epoch; −1 when unknown. */
  leaderEpoch?: number
}

export interface OffsetCommitRequest {
  groupId: string
  /** '' with generationId −1 is a "simple" (admin) commit: allowed only on an Empty group. */
  memberId: string
  generationId: number
  offsets: CommitOffset[]
}

export interface PartitionOutcome {
  topic: string
  partition: number
  errorCode: GroupErrorCodeValue
}

export interface OffsetFetchRequest {
  groupId: string
  /** null: every partition the group has committed. */
  topics: { topic: string; partitions: number[] }[] | null
}

export interface FetchedOffset {
  topic: string
  partition: number
  /** −1 when nothing is committed. */
  offset: number
  metadata: string | null
  leaderEpoch: number
}

export interface GroupMemberDescription {
  memberId: string
  clientId: string
  clientHost: string
  metadata: Buffer
  assignment: Buffer
}

export interface GroupDescription {
  groupId: string
  state: GroupState
  protocolType: string
  protocol: string
  members: GroupMemberDescription[]
}

export interface GroupListing {
  groupId: string
  protocolType: string
  state: GroupState
}

export interface DeleteGroupOutcome {
  groupId: string
  errorCode: GroupErrorCodeValue
}

/** A committed offset as stored. */
export interface StoredOffset {
  offset: number
  metadata: string | null
  leaderEpoch: number
  commitTimestampMs: number
}

/** Time for the coordinator: real timers in production, a hand-advanced clock in tests. */
export interface GroupClock {
  now(): number
  /** Runs `callback` after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, callback: () => void): () => void
}

export const systemClock: GroupClock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, delayMs)
    timer.unref()
    return () => clearTimeout(timer)
  },
}
