/**
 * Flume's AvroFlumeEvent (flume-ng-sdk `flume.avdl`, reference §8.1): the record the Avro RPC
 * carries, and what the Kafka source and sink read and write when `useFlumeEventFormat = true`
 * (Flume writes it there with Avro's binary encoding, no container header).
 */
import avro from 'avsc'

export const AVRO_FLUME_EVENT_SCHEMA = {
  type: 'record', name: 'AvroFlumeEvent', namespace: 'org.apache.flume.source.avro',
  fields: [
    { name: 'headers', type: { type: 'map', values: 'string' } },
    { name: 'body', type: 'bytes' },
  ],
} as const

export interface AvroFlumeEvent {
  headers: Record<string, string>
  body: Buffer
}

export const avroFlumeEventType = avro.Type.forSchema(
  AVRO_FLUME_EVENT_SCHEMA as unknown as avro.Schema)
