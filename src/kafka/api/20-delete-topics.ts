/**
 * DeleteTopics (key 20), v0–3: deletes topics from the Log. Fetches parked on a deleted
 * partition wake (its shared-index status changes) and answer UNKNOWN_TOPIC_OR_PARTITION.
 */
import { isInternalTopic, kafkaCodeOf } from '../broker-state.js'
import { array, field, message } from '../protocol/schema.js'
import { ErrorCode } from './error-codes.js'
import { register } from './registry.js'

const request = message({
  name: 'DeleteTopicsRequest', apiKey: 20, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    array('topicNames', 'string', '0-5'),
    field('timeoutMs', 'int32'),
  ],
})

const response = message({
  name: 'DeleteTopicsResponse', apiKey: 20, validVersions: '0-3', flexibleVersions: '4+',
  fields: [
    field('throttleTimeMs', 'int32', '1+'),
    array('responses', [
      field('name', 'string'),
      field('errorCode', 'int16'),
    ]),
  ],
})

register({
  apiKey: 20, minVersion: 0, maxVersion: 3, request, response,
  async handle(body, context) {
    const { topicNames } = body as unknown as { topicNames: string[] }
    const broker = context.broker
    const responses = []
    for (const name of topicNames) {
      let errorCode: number = ErrorCode.NONE
      try {
        if (isInternalTopic(name)) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        else {
          await broker.log.deleteTopic(name)
          broker.logger.info('deleted topic', { topic: name })
        }
      } catch (error) {
        errorCode = kafkaCodeOf(error, broker.logger, `delete topic ${name}`)
      }
      responses.push({ name, errorCode })
    }
    return { throttleTimeMs: 0, responses }
  },
})
