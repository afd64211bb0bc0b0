/**
 * CreatePartitions (key 37), v0–1: raises a topic's partition count; new partitions start empty
 * on the least-loaded shard. Assignments may name only this node. validate_only checks the
 * count without creating anything.
 */
import { kafkaCodeOf } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register, type RequestContext } from './registry.js'

const request = message({
  name: 'CreatePartitionsRequest', apiKey: 37, validVersions: '0-1', flexibleVersions: '2+',
  fields: [
    array('topics', [
      field('name', 'string'),
      field('count', 'int32'),
      array('assignments', [array('brokerIds', 'int32')], '0+', { nullable: '0+' }),
    ]),
    field('timeoutMs', 'int32'),
    field('validateOnly', 'bool'),
  ],
})

const response = message({
  name: 'CreatePartitionsResponse', apiKey: 37, validVersions: '0-1', flexibleVersions: '2+',
  fields: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('name', 'string'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    ]),
  ],
})

interface CreatePartitionsTopic {
  name: string
  count: number
  assignments: { brokerIds: number[] }[] | null
}

register({
  apiKey: 37, minVersion: 0, maxVersion: 1, request, response,
  async handle(body, context) {
    const { topics, validateOnly } = body as unknown as
      { topics: CreatePartitionsTopic[]; validateOnly: boolean }
    const results = []
    for (const topic of topics) results.push(await grow(topic, validateOnly, context))
    return { throttleTimeMs: 0, results }
  },
})

async function grow(topic: CreatePartitionsTopic, validateOnly: boolean,
  context: RequestContext): Promise<object> {
  const { name, count } = topic
  const broker = context.broker
  const nodeId = broker.identity.nodeId
  if (topic.assignments?.some((a) => a.brokerIds.some((id) => id !== nodeId))) {
    return { name, errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      errorMessage: `only broker ${nodeId} exists` }
  }
  try {
    const description = await broker.describe(name)
    if (description === null) {
      return { name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        errorMessage: `unknown topic ${name}` }
    }
    const current = description.partitions.length
    if (validateOnly) {
      const valid = Number.isInteger(count) && count > current
      return valid ? { name, errorCode: ErrorCode.NONE }
        : { name, errorCode: ErrorCode.INVALID_PARTITIONS,
          errorMessage: `topic has ${current} partitions; ${count} is not more` }
    }
    await broker.log.createPartitions(name, count)
    return { name, errorCode: ErrorCode.NONE }
  } catch (error) {
    return { name, errorCode: kafkaCodeOf(error, broker.logger, `create partitions ${name}`),
      errorMessage: error instanceof Error ? error.message : String(error) }
  }
}
