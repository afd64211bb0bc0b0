// Proves the hdfs sink resolves hdfs.path escapes as Flume's BucketPath does: every date escape
// in a table, in UTC and in zones with DST and half-hour offsets; header and host escapes;
// rounding down by seconds, minutes and hours in the zone's calendar (the user guide's
// 11:54:34 → 1150/00 example); and a missing or bad timestamp header refused with Flume's words.
import { describe, expect, it } from 'vitest'
import {
  escapeTemplate, parseTemplate, roundDown, timeZoneOf, type EscapeOptions, type RoundUnit,
} from '../../src/flow/sinks/hdfs/bucket-path.js'
import { isSluiceError } from '../../src/errors.js'

const hosts = { localhost: 'box', ip: '10.0.0.7', fqdn: 'box.example.com' }
// Thursday 2005-03-03 23:05:25.678 UTC, the user guide's %c example.
const THU = Date.UTC(2005, 2, 3, 23, 5, 25, 678)

function options(zone = 'UTC', round: EscapeOptions['round'] = null): EscapeOptions {
  return { zone: timeZoneOf(zone), round, localClockMs: null }
}

function escape(source: string, headers: Record<string, string>, opts = options()): string {
  return escapeTemplate(parseTemplate(source), headers, opts, hosts)
}

describe('date escapes', () => {
  const headers = { timestamp: String(THU) }
  it.each([
    ['%a', 'Thu'], ['%A', 'Thursday'], ['%b', 'Mar'], ['%B', 'March'],
    ['%c', 'Thu Mar 3 23:05:25 2005'], ['%d', '03'], ['%D', '03/03/05'], ['%e', '3'],
    ['%H', '23'], ['%I', '11'], ['%j', '062'], ['%k', '23'], ['%l', '11'], ['%m', '03'],
    ['%M', '05'], ['%n', '3'], ['%p', 'PM'], ['%s', '1109891125'], ['%S', '25'],
    ['%t', String(THU)], ['%y', '05'], ['%Y', '2005'], ['%z', '+0000'], ['%%', '%'],
    ['%q', ''], ['/logs/%Y-%m-%d/%H%M/%S', '/logs/2005-03-03/2305/25'],
  ])('%s → %s', (source, expected) => {
    expect(escape(source, headers)).toBe(expected)
  })

  it('formats in hdfs.timeZone: DST, negative and half-hour offsets, day and year change', () => {
    const cases: [string, number, string][] = [
      ['America/Los_Angeles', Date.UTC(2024, 6, 1, 3, 30), '2024-06-30 20:30 -0700 PM 8'],
      ['America/Los_Angeles', Date.UTC(2024, 0, 1, 3, 30), '2023-12-31 19:30 -0800 PM 7'],
      ['Asia/Kolkata', Date.UTC(2024, 0, 1, 0, 0), '2024-01-01 05:30 +0530 AM 5'],
      ['Asia/Kathmandu', Date.UTC(2024, 0, 1, 0, 0), '2024-01-01 05:45 +0545 AM 5'],
      ['GMT-03:00', Date.UTC(2024, 0, 1, 1, 0), '2023-12-31 22:00 -0300 PM 10'],
      ['GMT+9', Date.UTC(2024, 0, 1, 12, 0), '2024-01-01 21:00 +0900 PM 9'],
      ['UTC', Date.UTC(2024, 0, 1, 0, 0), '2024-01-01 00:00 +0000 AM 12'],
    ]
    for (const [zone, ms, expected] of cases) {
      expect(escape('%Y-%m-%d %H:%M %z %p %l', { timestamp: String(ms) }, options(zone)),
        `${zone} at ${new Date(ms).toISOString()}`).toBe(expected)
    }
    expect(escape('%j', { timestamp: String(Date.UTC(2024, 11, 31, 12)) })).toBe('366')
  })

  it('refuses a zone Java would silently turn into GMT', () => {
    expect(() => timeZoneOf('Mars/Olympus')).toThrow()
    expect(() => timeZoneOf('GMT+25')).toThrow()
  })
})

describe('header and host escapes', () => {
  it('substitutes headers (empty when absent) and the agent host, without needing a time', () => {
    expect(escape('/data/%{dc}/%{app.name}/%{missing}x', { dc: 'east', 'app.name': 'web-1' }))
      .toBe('/data/east/web-1/x')
    expect(escape('%[localhost]-%[IP]-%[FQDN]-%[fqdn]', {}))
      .toBe('box-10.0.0.7-box.example.com-box.example.com')
    expect(() => parseTemplate('/x/%[hostname]')).toThrow(/none of %\[localhost\]/)
  })

  it('needs the timestamp header for any %x escape (as Flume does), or local time', () => {
    const missing = (() => { try { escape('/x/%Y', {}) } catch (e) { return e } })()
    expect(isSluiceError(missing, 'SLUICE_ERR_EVENT_DELIVERY')).toBe(true)
    expect((missing as Error).message)
      .toMatch(/Expected timestamp in the Flume event headers, but it was null.*useLocalTimeStamp/)
    expect(() => escape('/x/%%', {})).toThrow(/Expected timestamp/)
    expect(() => escape('/x/%Y', { timestamp: '12:00' }))
      .toThrow(/wasn't able to parse timestamp header "12:00"/)
    const local = { ...options(), localClockMs: () => THU }
    expect(escape('/x/%Y/%t', {}, local)).toBe(`/x/2005/${THU}`)
  })
})

describe('rounding (hdfs.round)', () => {
  const at = (iso: string) => Date.parse(iso)
  it.each([
    ['2012-06-12T11:54:34.500Z', 'minute', 10, 'UTC', '2012-06-12T11:50:00.000Z'],
    ['2012-06-12T11:54:34.500Z', 'second', 15, 'UTC', '2012-06-12T11:54:30.000Z'],
    ['2012-06-12T11:54:34.500Z', 'second', 1, 'UTC', '2012-06-12T11:54:34.000Z'],
    ['2012-06-12T11:54:34.500Z', 'hour', 1, 'UTC', '2012-06-12T11:00:00.000Z'],
    ['2012-06-12T11:54:34.500Z', 'hour', 6, 'UTC', '2012-06-12T06:00:00.000Z'],
    ['2012-06-12T23:59:59.999Z', 'hour', 24, 'UTC', '2012-06-12T00:00:00.000Z'],
    // Hours round in the zone's calendar: 17:24 in Kolkata (+05:30) → 12:00 local = 06:30Z.
    ['2012-06-12T11:54:34.500Z', 'hour', 12, 'Asia/Kolkata', '2012-06-12T06:30:00.000Z'],
    // Across the 2024-03-10 spring-forward in Los Angeles: 03:30 PDT → 00:00 PST.
    ['2024-03-10T10:30:00.000Z', 'hour', 6, 'America/Los_Angeles', '2024-03-10T08:00:00.000Z'],
  ])('%s by %s×%i in %s → %s', (iso, unit, value, zone, expected) => {
    expect(new Date(roundDown(at(iso), unit as RoundUnit, value, timeZoneOf(zone))).toISOString())
      .toBe(expected)
  })

  it('rounds every field but %t, which keeps the header as written (user guide example)', () => {
    const ms = at('2012-06-12T11:54:34.000Z')
    const rounded = options('UTC', { unit: 'minute', value: 10 })
    expect(escape('/flume/events/%Y-%m-%d/%H%M/%S', { timestamp: String(ms) }, rounded))
      .toBe('/flume/events/2012-06-12/1150/00')
    expect(escape('%s %t', { timestamp: String(ms) }, rounded))
      .toBe(`${at('2012-06-12T11:50:00Z') / 1000} ${ms}`)
  })
})
