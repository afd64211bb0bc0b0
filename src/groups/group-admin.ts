/**
 * Group administration over the coordinator's groups: DescribeGroups, ListGroups and
 * DeleteGroups. These read the group map or remove whole groups; they never touch a group's
 * membership state machine, which is GroupMembership's (./membership.ts).
 *
 * Invariants: only an existing group with no members is deleted; its committed offsets are
 * tombstoned in the store before it is forgotten, so a restart does not bring it back; a group
 * id the coordinator does not hold is described as Dead, as Kafka describes it.
 */
import type { SerialWriter } from './committed-offsets.js'
import type { OffsetRecord } from './offset-store.js'
import type { Group } from './group.js'
import {
  GroupErrorCode, type DeleteGroupOutcome, type GroupDescription, type GroupErrorCodeValue,
  type GroupListing,
} from './types.js'

export function describeGroups(groups: ReadonlyMap<string, Group>, groupIds: string[])
  : GroupDescription[] {
  return groupIds.map((groupId) => groups.get(groupId)?.describe()
    ?? { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] })
}

export function listGroups(groups: ReadonlyMap<string, Group>): GroupListing[] {
  return [...groups.values()].map((g) => ({
    groupId: g.groupId, protocolType: g.protocolType, state: g.state,
  }))
}

/** Deletes the groups one at a time, each after the previous one's tombstones are stored. */
export async function deleteGroups(groups: Map<string, Group>, writer: SerialWriter,
  groupIds: string[]): Promise<DeleteGroupOutcome[]> {
  const outcomes: DeleteGroupOutcome[] = []
  for (const groupId of groupIds) {
    const group = groups.get(groupId)
    let errorCode: GroupErrorCodeValue = GroupErrorCode.NONE
    if (typeof groupId !== 'string' || groupId.length === 0) {
      errorCode = GroupErrorCode.INVALID_GROUP_ID
    } else if (group === undefined) errorCode = GroupErrorCode.GROUP_ID_NOT_FOUND
    else if (group.members.size > 0) errorCode = GroupErrorCode.NON_EMPTY_GROUP
    else {
      const tombstones = [...group.offsets.values()].map((o) => ({
        groupId, topic: o.topic, partition: o.partition, value: null,
      }))
      errorCode = await deleteOne(groups, writer, group, tombstones)
    }
    outcomes.push({ groupId, errorCode })
  }
  return outcomes
}

/**
 * Stores the tombstones, then forgets the group, unless a member joined while they were being
 * written: the group then stays (its offsets are gone, as the store now says) and the answer is
 * NON_EMPTY_GROUP. A store that refuses the tombstones leaves the group as it was.
 */
async function deleteOne(groups: Map<string, Group>, writer: SerialWriter, group: Group,
  tombstones: OffsetRecord[]): Promise<GroupErrorCodeValue> {
  try {
    await writer.write(tombstones)
  } catch {
    return GroupErrorCode.NOT_COORDINATOR
  }
  group.offsets.clear()
  if (group.members.size > 0) return GroupErrorCode.NON_EMPTY_GROUP
  group.state = 'Dead'
  for (const cancel of group.pendingMembers.values()) cancel()
  groups.delete(group.groupId)
  return GroupErrorCode.NONE
}
