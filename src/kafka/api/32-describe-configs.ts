/**
 * DescribeConfigs (key 32), v0–2: a topic's settings under Kafka's names (topic-configs.ts),
 * and the broker's own: auto-creation, default partitions, the largest message. Enough for
 * admin tools and kafkajs's describeConfigs; synonyms are always empty.
 */
import { ResourceType, ErrorCode } from './error-codes.js'
import { array, field, message } from '../protocol/schema.js'
import { register, type RequestContext } from './registry.js'
import { describeTopicConfig, type ConfigEntry } from './topic-configs.js'
import { TOPIC_DEFAULTS } from '../../engine/topic-config.js'

const request = message({
  name: 'DescribeConfigsRequest', apiKey: 32, validVersions: '0-2', flexibleVersions: '4+',
  fields: [
    array('resources', [
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configurationKeys', 'string', '0+', { nullable: '0+' }),
    ]),
    field('includeSynonyms', 'bool', '1+'),
  ],
})

const response = message({
  name: 'DescribeConfigsResponse', apiKey: 32, validVersions: '0-2', flexibleVersions: '4+',
  fields: [
    field('throttleTimeMs', 'int32'),
    array('results', [
      field('errorCode', 'int16'),
      field('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      field('resourceType', 'int8'),
      field('resourceName', 'string'),
      array('configs', [
        field('name', 'string'),
        field('value', 'string', '0+', { nullable: '0+' }),
        field('readOnly', 'bool'),
        field('isDefault', 'bool', '0'),
        field('configSource', 'int8', '1+', { default: -1 }),
        field('isSensitive', 'bool'),
        array('synonyms', [
          field('name', 'string', '1+'),
          field('value', 'string', '1+', { nullable: '0+' }),
          field('source', 'int8', '1+'),
        ], '1+'),
      ]),
    ]),
  ],
})

interface Resource {
  resourceType: number
  resourceName: string
  configurationKeys: string[] | null
}

/** Kafka's ConfigSource values. */
const Source = { DYNAMIC_TOPIC: 1, STATIC_BROKER: 4, DEFAULT: 5 } as const

register({
  apiKey: 32, minVersion: 0, maxVersion: 2, request, response,
  async handle(body, context) {
    const { resources } = body as unknown as { resources: Resource[] }
    return {
      throttleTimeMs: 0,
      results: await Promise.all(resources.map((resource) => describe(resource, context))),
    }
  },
})

async function describe(resource: Resource, context: RequestContext): Promise<object> {
  const { resourceType, resourceName } = resource
  const result = (errorCode: number, errorMessage: string | null, entries: ConfigEntry[]) => ({
    errorCode, errorMessage, resourceType, resourceName,
    configs: entries
      .filter((e) => resource.configurationKeys?.includes(e.name) ?? true)
      .map((e) => ({
        name: e.name, value: e.value, readOnly: resourceType === ResourceType.BROKER,
        isDefault: e.isDefault, isSensitive: false, synonyms: [],
        configSource: resourceType === ResourceType.BROKER ? Source.STATIC_BROKER
          : e.isDefault ? Source.DEFAULT : Source.DYNAMIC_TOPIC,
      })),
  })
  if (resourceType === ResourceType.BROKER) {
    return result(ErrorCode.NONE, null, brokerEntries(context))
  }
  if (resourceType !== ResourceType.TOPIC) {
    return result(ErrorCode.INVALID_REQUEST, `resource type ${resourceType} is not served`, [])
  }
  const description = await context.broker.describe(resourceName)
  if (description === null) {
    return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `unknown topic ${resourceName}`, [])
  }
  return result(ErrorCode.NONE, null, describeTopicConfig(description.config))
}

function brokerEntries(context: RequestContext): ConfigEntry[] {
  const { policy } = context.broker
  return [
    { name: 'auto.create.topics.enable', value: String(policy.autoCreateTopics),
      isDefault: policy.autoCreateTopics },
    { name: 'num.partitions', value: String(policy.defaultPartitions),
      isDefault: policy.defaultPartitions === 1 },
    { name: 'message.max.bytes', value: String(TOPIC_DEFAULTS.maxMessageBytes), isDefault: true },
  ]
}
