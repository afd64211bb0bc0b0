/**
 * Metadata (key 3), v0–8: this one node as the whole cluster (broker, controller, leader and
 * only replica of every partition, leader epoch 0). Topic lists: v0's empty array and v1+'s
 * null mean every topic; a named topic that does not exist is auto-created when the broker
 * allows it and the request does (allow_auto_topic_creation, v4+; implied before), and is
 * returned ready rather than with LEADER_NOT_AVAILABLE, since creation is complete when the
 * Log's createTopic resolves. The internal offsets topic is never listed.
 */
import { validateTopicName } from '../../engine/topic-config.js'
import { isSluiceError } from '../../errors.js'
import { kafkaCodeOf, type BrokerState } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'MetadataRequest', apiKey: 3, validVersions: '0-8', flexibleVersions: '9+',
  fields: [
    array('topics', [field('name', 'string')], '0+', { nullable: '1+' }),
    field('allowAutoTopicCreation', 'bool', '4+', { default: true }),
    field('includeClusterAuthorizedOperations', 'bool', '8-10'),
    field('includeTopicAuthorizedOperations', 'bool', '8+'),
  ],
})

/** Kafka's "authorized operations not requested" sentinel. */
const OPERATIONS_UNKNOWN = -2147483648

const response = message({
  name: 'MetadataResponse', apiKey: 3, validVersions: '0-8', flexibleVersions: '9+',
  fields: [
    field('throttleTimeMs', 'int32', '3+'),
    array('brokers', [
      field('nodeId', 'int32'),
      field('host', 'string'),
      field('port', 'int32'),
      field('rack', 'string', '1+', { nullable: '1+' }),
    ]),
    field('clusterId', 'string', '2+', { nullable: '2+' }),
    field('controllerId', 'int32', '1+', { default: -1 }),
    array('topics', [
      field('errorCode', 'int16'),
      field('name', 'string'),
      field('isInternal', 'bool', '1+'),
      array('partitions', [
        field('errorCode', 'int16'),
        field('partitionIndex', 'int32'),
        field('leaderId', 'int32'),
        field('leaderEpoch', 'int32', '7+', { default: -1 }),
        array('replicaNodes', 'int32'),
        array('isrNodes', 'int32'),
        array('offlineReplicas', 'int32', '5+'),
      ]),
      field('topicAuthorizedOperations', 'int32', '8+', { default: OPERATIONS_UNKNOWN }),
    ]),
    field('clusterAuthorizedOperations', 'int32', '8-10', { default: OPERATIONS_UNKNOWN }),
  ],
})

interface MetadataRequest {
  topics: { name: string }[] | null
  allowAutoTopicCreation: boolean
}

register({
  apiKey: 3, minVersion: 0, maxVersion: 8, request, response,
  async handle(body, context) {
    const { topics, allowAutoTopicCreation } = body as unknown as MetadataRequest
    const broker = context.broker
    const all = topics === null || (context.version === 0 && topics.length === 0)
    const names = all ? await broker.visibleTopics() : topics.map((t) => t.name)
    const { nodeId, host, port, clusterId } = broker.identity
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId, host, port, rack: null }],
      clusterId,
      controllerId: nodeId,
      topics: await Promise.all(names.map((name) =>
        describeTopic(broker, name, !all && allowAutoTopicCreation))),
    }
  },
})

async function describeTopic(broker: BrokerState, name: string, mayCreate: boolean)
  : Promise<object> {
  const unknown = (errorCode: number) => ({ errorCode, name, isInternal: false, partitions: [] })
  try {
    validateTopicName(name)
    let description = await broker.describe(name)
    if (description === null && mayCreate && await broker.autoCreate(name)) {
      description = await broker.describe(name)
    }
    if (description === null) return unknown(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    const nodeId = broker.identity.nodeId
    return {
      errorCode: ErrorCode.NONE, name, isInternal: false,
      partitions: description.partitions.map(({ partition }) => ({
        errorCode: ErrorCode.NONE, partitionIndex: partition, leaderId: nodeId, leaderEpoch: 0,
        replicaNodes: [nodeId], isrNodes: [nodeId], offlineReplicas: [],
      })),
    }
  } catch (error) {
    if (isSluiceError(error, 'SLUICE_ERR_INVALID_TOPIC')) {
      return unknown(ErrorCode.INVALID_TOPIC_EXCEPTION)
    }
    return unknown(kafkaCodeOf(error, broker.logger, `metadata ${name}`))
  }
}
