/**
 * Properties → Kafka source and sink, with Flume 1.11's keys and defaults (reference §2.1,
 * §2.3). Like every builder, these only read and check: no client is made, no lease taken,
 * until start().
 *
 *   source  kafka.bootstrap.servers (required), kafka.topics.regex (wins) or kafka.topics,
 *           kafka.consumer.group.id flume, batchSize 1000, batchDurationMillis 1000,
 *           backoffSleepIncrement 1000, maxBackoffSleep 5000, useFlumeEventFormat false,
 *           setTopicHeader true, topicHeader topic, header.<flume> = <kafka>, kafka.consumer.*
 *   sink    kafka.bootstrap.servers (required), kafka.topic default-flume-topic,
 *           flumeBatchSize 100, useFlumeEventFormat false, defaultPartitionId,
 *           partitionIdHeader, allowTopicOverride true, topicHeader topic, timestampHeader,
 *           header.<flume> = <kafka>, kafka.producer.*
 *
 * The pre-1.7 keys (topic, groupId, zookeeperConnect; brokerList, requiredAcks, batchSize)
 * are no longer read by Flume 1.11; sluice says so, naming the key that replaced each.
 */
import { validateTopicName } from '../../engine/topic-config.js'
import type { ChannelProcessor } from '../channel-processor.js'
import type { BuildContext } from '../config/components.js'
import type { Props } from '../config/props.js'
import type { Channel } from '../transaction.js'
import { consumerSettings, producerSettings } from './client-properties.js'
import { EMBEDDED_PREFIX, embeddedDataDir } from './embedded-sluice.js'
import { brokerList } from './kafka-clients.js'
import { KafkaSink } from './kafka-sink.js'
import { KafkaSource, type TopicSubscription } from './kafka-source.js'

const SOURCE_RENAMED = new Map([['topic', 'kafka.topics'], ['groupId', 'kafka.consumer.group.id'],
  ['zookeeperConnect', 'kafka.bootstrap.servers']])
const SINK_RENAMED = new Map([['topic', 'kafka.topic'], ['brokerList', 'kafka.bootstrap.servers'],
  ['requiredAcks', 'kafka.producer.acks'], ['batchSize', 'flumeBatchSize']])

/** Kafka's topic name rule, as the broker checks it (engine/topic-config.ts). */
function checkTopicName(props: Props, key: string, topic: string): void {
  try {
    validateTopicName(topic)
  } catch (error) {
    throw props.fail(key, `${JSON.stringify(topic)} is not a valid Kafka topic name: ` +
      `${(error as Error).message} (1 to 249 of a-z A-Z 0-9 . _ -, not . or ..)`)
  }
}

/** Notes each renamed key present; returns the hint for the key that replaced it. */
function renamedKeys(props: Props, renamed: Map<string, string>, context: BuildContext)
  : Map<string, string> {
  const hints = new Map<string, string>()
  for (const [old, current] of renamed) {
    if (!props.has(old)) continue
    hints.set(current, ` (${props.fullKey(old)} is no longer read by Flume 1.11; use ${current})`)
    context.logger.warn(`${props.fullKey(old)}: no longer read by Flume 1.11 (use ${current}); ` +
      'ignored')
  }
  return hints
}

function bootstrapServers(props: Props, hints: Map<string, string>): string {
  const key = 'kafka.bootstrap.servers'
  const written = props.string(key, '').trim()
  if (written === '') {
    throw props.fail(key, `Bootstrap Servers must be specified${hints.get(key) ?? ''}`)
  }
  const dataDir = embeddedDataDir(written)
  if (dataDir !== null) {
    if (dataDir === '') throw props.fail(key, `${EMBEDDED_PREFIX} needs a data directory`)
    return written
  }
  for (const broker of brokerList(written)) {
    const match = /^(.+):(\d{1,5})$/.exec(broker)
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65535) {
      throw props.fail(key, `${JSON.stringify(broker)} is not host:port (expected a comma ` +
        `list of host:port, or ${EMBEDDED_PREFIX}<dataDir> for the in-process log)`)
    }
  }
  return written
}

/** `header.<flumeHeader> = <kafkaHeader>` pairs. */
function headerMap(props: Props): Map<string, string> {
  const map = new Map<string, string>()
  for (const flumeName of props.under('header')) {
    map.set(flumeName, props.required(`header.${flumeName}`).trim())
  }
  return map
}

function subscription(props: Props, hints: Map<string, string>, context: BuildContext)
  : TopicSubscription {
  const regex = props.string('kafka.topics.regex', '').trim()
  if (regex !== '') {
    if (props.has('kafka.topics')) {
      context.logger.info(`${props.fullKey('kafka.topics')}: kafka.topics.regex takes ` +
        'precedence, as in Flume; ignored')
    }
    // Kafka matches a subscription pattern against the whole topic name.
    try {
      return { pattern: new RegExp(`^(?:${regex})$`) }
    } catch (error) {
      throw props.fail('kafka.topics.regex',
        `is not a valid regular expression: ${(error as Error).message}`)
    }
  }
  const written = props.string('kafka.topics', '').trim()
  if (written === '') {
    throw props.fail('kafka.topics', 'At least one Kafka topic must be specified (kafka.topics ' +
      `or kafka.topics.regex)${hints.get('kafka.topics') ?? ''}`)
  }
  const topics = written.split(/\s*,\s*/)
  for (const topic of topics) checkTopicName(props, 'kafka.topics', topic)
  return { topics: [...new Set(topics)] }
}

export function buildKafkaSource(props: Props, processor: ChannelProcessor,
  context: BuildContext): KafkaSource {
  const hints = renamedKeys(props, SOURCE_RENAMED, context)
  const options = {
    bootstrapServers: bootstrapServers(props, hints),
    subscription: subscription(props, hints, context),
    groupId: props.string('kafka.consumer.group.id', 'flume').trim() || 'flume',
    batchSize: props.int('batchSize', 1000, 1),
    batchDurationMs: props.int('batchDurationMillis', 1000, 1),
    backoffSleepIncrementMs: props.int('backoffSleepIncrement', 1000, 1),
    maxBackoffSleepMs: props.int('maxBackoffSleep', 5000, 1),
    useFlumeEventFormat: props.bool('useFlumeEventFormat', false),
    setTopicHeader: props.bool('setTopicHeader', true),
    topicHeader: props.string('topicHeader', 'topic'),
    headerMap: headerMap(props),
    consumer: consumerSettings(props, context.logger),
    patternRefreshMs: 0,
  }
  // Kafka's metadata.max.age.ms default: a new topic matching the pattern is seen this often.
  options.patternRefreshMs = options.consumer.metadataMaxAgeMs ?? 300_000
  if (options.topicHeader.trim() === '') throw props.fail('topicHeader', 'must not be empty')
  return new KafkaSource(props.name, processor, options, context.logger)
}

export function buildKafkaSink(props: Props, channel: Channel, context: BuildContext)
  : KafkaSink {
  const hints = renamedKeys(props, SINK_RENAMED, context)
  const topic = props.string('kafka.topic', 'default-flume-topic').trim()
  // The text around %{header} escapes must itself be legal in a topic name.
  const literal = topic.replace(/%\{[\w.-]+\}/g, '')
  if (literal !== '') checkTopicName(props, 'kafka.topic', literal)
  const partitionIdHeader = props.string('partitionIdHeader', '').trim()
  const timestampHeader = props.string('timestampHeader', '').trim()
  const topicHeader = props.string('topicHeader', 'topic').trim()
  if (topicHeader === '') throw props.fail('topicHeader', 'must not be empty')
  return new KafkaSink(props.name, channel, {
    bootstrapServers: bootstrapServers(props, hints),
    topic,
    batchSize: props.int('flumeBatchSize', 100, 1),
    useFlumeEventFormat: props.bool('useFlumeEventFormat', false),
    defaultPartitionId: props.has('defaultPartitionId')
      ? props.int('defaultPartitionId', 0, 0, 2 ** 31 - 1) : undefined,
    partitionIdHeader: partitionIdHeader === '' ? undefined : partitionIdHeader,
    allowTopicOverride: props.bool('allowTopicOverride', true),
    topicHeader,
    timestampHeader: timestampHeader === '' ? undefined : timestampHeader,
    headerMap: headerMap(props),
    producer: producerSettings(props, context.logger),
  }, context.logger)
}
