/**
 * Flume's interceptors (reference §2.4). They run in the source's path, in list order, before the
 * selector; each takes a batch and returns the events to keep (possibly altered, possibly fewer).
 *
 *   timestamp        headerName (timestamp), preserveExisting (false)
 *   host             hostHeader (host), useIP (true), preserveExisting (false)
 *   static           key (key), value (value), preserveExisting (true)
 *   uuid             headerName (id), prefix (""), preserveExisting (true)
 *   regex_filter     regex (.*), excludeEvents (false)
 *   regex_extractor  regex, serializers (s1 s2 …), serializers.<s>.name
 *   search_replace   searchPattern, replaceString, charset (UTF-8)
 */
import { randomUUID } from 'node:crypto'
import * as os from 'node:os'
import type { FlowEvent } from './event.js'
import type { Props } from './config/props.js'
import { splitNames } from './config/grammar.js'

export interface Interceptor {
  readonly type: string
  intercept(events: FlowEvent[]): FlowEvent[]
}

function setHeader(event: FlowEvent, name: string, value: string, preserve: boolean): void {
  if (preserve && event.headers[name] !== undefined) return
  event.headers[name] = value
}

function mapEach(type: string, apply: (event: FlowEvent) => FlowEvent | null): Interceptor {
  return {
    type,
    intercept(events) {
      const kept: FlowEvent[] = []
      for (const event of events) {
        const result = apply(event)
        if (result !== null) kept.push(result)
      }
      return kept
    },
  }
}

function timestamp(props: Props): Interceptor {
  const header = props.string('headerName', 'timestamp')
  const preserve = props.bool('preserveExisting', false)
  return mapEach('timestamp', (event) => {
    setHeader(event, header, String(Date.now()), preserve)
    return event
  })
}

function localAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal)
    if (found !== undefined) return found.address
  }
  return '127.0.0.1'
}

function host(props: Props): Interceptor {
  const header = props.string('hostHeader', 'host')
  const preserve = props.bool('preserveExisting', false)
  const value = props.bool('useIP', true) ? localAddress() : os.hostname()
  return mapEach('host', (event) => {
    setHeader(event, header, value, preserve)
    return event
  })
}

function staticHeader(props: Props): Interceptor {
  const key = props.string('key', 'key')
  const value = props.string('value', 'value')
  const preserve = props.bool('preserveExisting', true)
  return mapEach('static', (event) => {
    setHeader(event, key, value, preserve)
    return event
  })
}

function uuid(props: Props): Interceptor {
  const header = props.string('headerName', 'id')
  const prefix = props.string('prefix', '')
  const preserve = props.bool('preserveExisting', true)
  return mapEach('uuid', (event) => {
    setHeader(event, header, `${prefix}${randomUUID()}`, preserve)
    return event
  })
}

function regexFilter(props: Props): Interceptor {
  const regex = props.regex('regex', '.*')
  const exclude = props.bool('excludeEvents', false)
  return mapEach('regex_filter', (event) => {
    regex.lastIndex = 0
    const matches = regex.test(event.body.toString('utf8'))
    return matches !== exclude ? event : null
  })
}

function regexExtractor(props: Props): Interceptor {
  const regex = props.regex('regex', props.required('regex'))
  const serializers = splitNames(props.required('serializers')).map((s) =>
    props.required(`serializers.${s}.name`))
  return mapEach('regex_extractor', (event) => {
    const match = regex.exec(event.body.toString('utf8'))
    if (match === null) return event
    serializers.forEach((name, i) => {
      const group = match[i + 1]
      if (group !== undefined) event.headers[name] = group
    })
    return event
  })
}

function searchReplace(props: Props): Interceptor {
  const search = props.string('searchPattern', '')
  if (search === '') throw props.fail('searchPattern', 'is required and must not be empty')
  let pattern: RegExp
  try {
    pattern = new RegExp(search, 'g')
  } catch (error) {
    throw props.fail('searchPattern', `is not a valid regular expression: ${String(error)}`)
  }
  // Java's replaceAll writes groups as $1; JavaScript's replace reads the same syntax.
  const replacement = props.string('replaceString', '')
  const charset = props.string('charset', 'UTF-8').toLowerCase().replace('-', '')
  if (charset !== 'utf8') throw props.fail('charset', 'only UTF-8 is supported')
  return mapEach('search_replace', (event) => {
    event.body = Buffer.from(event.body.toString('utf8').replace(pattern, replacement), 'utf8')
    return event
  })
}

const BUILDERS: Record<string, (props: Props) => Interceptor> = {
  timestamp, host, static: staticHeader, uuid, regex_filter: regexFilter,
  regex_extractor: regexExtractor, search_replace: searchReplace,
}

/** Flume's aliases and Builder class names, lower-cased (types are case-insensitive). */
const ALIASES: Record<string, string> = {
  'org.apache.flume.interceptor.timestampinterceptor$builder': 'timestamp',
  'org.apache.flume.interceptor.hostinterceptor$builder': 'host',
  'org.apache.flume.interceptor.staticinterceptor$builder': 'static',
  'org.apache.flume.sink.solr.morphline.uuidinterceptor$builder': 'uuid',
  'org.apache.flume.interceptor.regexfilteringinterceptor$builder': 'regex_filter',
  'org.apache.flume.interceptor.regexextractorinterceptor$builder': 'regex_extractor',
  'org.apache.flume.interceptor.searchandreplaceinterceptor$builder': 'search_replace',
}

export function buildInterceptor(props: Props): Interceptor {
  const type = props.required('type').toLowerCase()
  const builder = BUILDERS[ALIASES[type] ?? type]
  if (builder === undefined) {
    const written = JSON.stringify(props.string('type', ''))
    throw props.fail('type', `unknown interceptor type ${written}` +
      `; known: ${Object.keys(BUILDERS).join(', ')}`)
  }
  return builder(props)
}

/** The source's `interceptors = i1 i2` chain, in order. */
export function buildInterceptors(source: Props): Interceptor[] {
  const names = splitNames(source.string('interceptors', ''))
  return names.map((name) => buildInterceptor(source.child(`interceptors.${name}`)))
}
