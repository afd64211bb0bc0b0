/**
 * CreateTopics (key 19), v0–4. num_partitions and replication_factor −1 take the broker's
 * defaults (kafkajs always sends −1 unless told); a replica assignment may name only this node;
 * replication above 1 is INVALID_REPLICATION_FACTOR, since there is one broker. Configs are
 * Kafka's names (topic-configs.ts). v1+ honours validate_only and carries error messages.
 */
import { resolveTopicConfig, validateTopicName } from '../../engine/topic-config.js'
import { kafkaCodeOf, isInternalTopic } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register, type RequestContext } from './registry.js'
import { topicConfigFrom } from './topic-configs.js'

const request = message({
  name: 'CreateTopicsRequest', apiKey: 19, validVersions: '0-4', flexibleVersions: '5+',
  fields: [
    array('topics', [
      field('name', 'string'),
      field('numPartitions', 'int32'),
      field('replicationFactor', 'int16'),
      array('assignments', [
        field('partitionIndex', 'int32'),
        array('brokerIds', 'int32'),
      ]),
      array('configs', [
        field('name', 'string'),
        field('value', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
    field('timeoutMs', 'int32', '0+', { default: 60000 }),
    field('validateOnly', 'bool', '1+'),
  ],
})

const response = message({
  name: 'CreateTopicsResponse', apiKey: 19, validVersions: '0-4', flexibleVersions: '5+',
  fields: [
    field('throttleTimeMs', 'int32', '2+'),
    array('topics', [
      field('name', 'string'),
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '1+', { nullable: '0+', default: null }),
    ]),
  ],
})

interface CreatableTopic {
  name: string
  numPartitions: number
  replicationFactor: number
  assignments: { partitionIndex: number; brokerIds: number[] }[]
  configs: { name: string; value: string | null }[]
}

register({
  apiKey: 19, minVersion: 0, maxVersion: 4, request, response,
  async handle(body, context) {
    const { topics, validateOnly } = body as unknown as
      { topics: CreatableTopic[]; validateOnly: boolean }
    const results = []
    for (const topic of topics) results.push(await createTopic(topic, validateOnly, context))
    return { throttleTimeMs: 0, topics: results }
  },
})

async function createTopic(topic: CreatableTopic, validateOnly: boolean,
  context: RequestContext): Promise<object> {
  const { name } = topic
  const refuse = (errorCode: number, errorMessage: string) => ({ name, errorCode, errorMessage })
  const broker = context.broker
  const { nodeId } = broker.identity
  if (topic.replicationFactor > 1 || topic.replicationFactor === 0
    || topic.replicationFactor < -1) {
    return refuse(ErrorCode.INVALID_REPLICATION_FACTOR,
      `replication factor ${topic.replicationFactor}: this cluster has one broker`)
  }
  if (topic.assignments.some((a) => a.brokerIds.some((id) => id !== nodeId))) {
    return refuse(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `only broker ${nodeId} exists`)
  }
  const partitions = topic.assignments.length > 0 ? topic.assignments.length
    : topic.numPartitions === -1 ? broker.policy.defaultPartitions : topic.numPartitions
  try {
    validateTopicName(name)
    if (isInternalTopic(name) || await broker.describe(name) !== null) {
      return refuse(ErrorCode.TOPIC_ALREADY_EXISTS, `topic "${name}" already exists`)
    }
    const config = { ...broker.policy.topicDefaults, ...topicConfigFrom(topic.configs),
      partitions }
    if (validateOnly) {
      // The same checks the real create runs (partition count, every setting's range).
      resolveTopicConfig(config)
      return { name, errorCode: ErrorCode.NONE, errorMessage: null }
    }
    await broker.log.createTopic(name, config)
    broker.logger.info('created topic', { topic: name, partitions })
    return { name, errorCode: ErrorCode.NONE, errorMessage: null }
  } catch (error) {
    return refuse(kafkaCodeOf(error, broker.logger, `create topic ${name}`),
      error instanceof Error ? error.message : String(error))
  }
}
