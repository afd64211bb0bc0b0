// Proves what a reload would restart, without running anything: a component's own properties,
// its wiring and its sink group decide; a rebuilt channel takes its sources and sinks with it;
// a group restarts with all its sinks; comments, order and whitespace change nothing; a ${…}
// reference counts by its value. And which candidates are refused: one that prunes a running
// component (named by file, line and key), but not one that keeps an old pruning.
import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/flow/event.js'
import { loadCandidate, refusalsOf, type Configured } from '../../src/flow/reload/candidate.js'
import { planIsEmpty, planReload, type ReloadPlan } from '../../src/flow/reload/config-diff.js'

const BASE = `a1.sources = r1 r2
a1.channels = c1 c2
a1.sinks = k1 k2 k3
a1.sinkgroups = g1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.sources.r2.type = seq
a1.sources.r2.channels = c2
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.channels.c2.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k2.type = null
a1.sinks.k2.channel = c2
a1.sinks.k3.type = null
a1.sinks.k3.channel = c2
a1.sinkgroups.g1.sinks = k2 k3
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k2 = 10
a1.sinkgroups.g1.processor.priority.k3 = 5
`

function load(text: string): Configured {
  return loadCandidate(text, 'a.conf', { agentName: 'a1', strict: false, env: {},
    logger: silentLogger })
}

/** Lines replaced by key (`key = value`), removed (`-key`) or appended (new keys). */
function edit(text: string, ...changes: string[]): string {
  let lines = text.trimEnd().split('\n')
  for (const change of changes) {
    if (change.startsWith('-')) {
      lines = lines.filter((line) => !line.startsWith(`${change.slice(1)} =`))
      continue
    }
    const key = change.split(' = ')[0]!
    const at = lines.findIndex((line) => line.startsWith(`${key} =`))
    if (at >= 0) lines[at] = change
    else lines.push(change)
  }
  return `${lines.join('\n')}\n`
}

function changed(plan: ReloadPlan): Record<string, string[]> {
  const summary: Record<string, string[]> = {}
  for (const kind of ['channels', 'sources', 'sinks', 'runners'] as const) {
    for (const pick of ['restarted', 'added', 'removed'] as const) {
      if (plan[kind][pick].length > 0) summary[`${kind}.${pick}`] = [...plan[kind][pick]].sort()
    }
  }
  return summary
}

const planFor = (text: string): ReloadPlan => planReload(load(BASE), load(text))

describe('what a change restarts', () => {
  it('nothing for comments, reordered lines and whitespace', () => {
    const shuffled = `# a comment\n${BASE.trimEnd().split('\n').reverse()
      .map((line) => line.replace(' = ', '   =   ')).join('\n')}\n`
    expect(planIsEmpty(planFor(shuffled))).toBe(true)
  })

  it('a sink property: that sink and its own runner only', () => {
    expect(changed(planFor(edit(BASE, 'a1.sinks.k1.batchSize = 7')))).toEqual({
      'sinks.restarted': ['k1'], 'runners.restarted': ['sink k1'] })
  })

  it('a channel property: the channel, its source and its sink', () => {
    expect(changed(planFor(edit(BASE, 'a1.channels.c1.capacity = 2000')))).toEqual({
      'channels.restarted': ['c1'], 'sources.restarted': ['r1'], 'sinks.restarted': ['k1'],
      'runners.restarted': ['sink k1'] })
  })

  it('a source\'s interceptors, selector and channels: that source only', () => {
    const expected = { 'sources.restarted': ['r1'] }
    expect(changed(planFor(edit(BASE, 'a1.sources.r1.interceptors = i1',
      'a1.sources.r1.interceptors.i1.type = timestamp')))).toEqual(expected)
    expect(changed(planFor(edit(BASE, 'a1.sources.r1.selector.type = replicating'))))
      .toEqual(expected)
    expect(changed(planFor(edit(BASE, 'a1.sources.r1.channels = c1 c2')))).toEqual(expected)
  })

  it('a sink group\'s processor or a member sink: the group with all its sinks', () => {
    const group = { 'sinks.restarted': ['k2', 'k3'], 'runners.restarted': ['sinkgroup g1'] }
    expect(changed(planFor(edit(BASE, 'a1.sinkgroups.g1.processor.priority.k3 = 20'))))
      .toEqual(group)
    expect(changed(planFor(edit(BASE, 'a1.sinks.k3.batchSize = 9')))).toEqual(group)
    expect(changed(planFor(edit(BASE, 'a1.sinks.k3.channel = c1')))).toEqual(group)
  })

  it('a group dissolved: its sinks move to runners of their own', () => {
    expect(changed(planFor(edit(BASE, '-a1.sinkgroups', '-a1.sinkgroups.g1.sinks',
      '-a1.sinkgroups.g1.processor.type', '-a1.sinkgroups.g1.processor.priority.k2',
      '-a1.sinkgroups.g1.processor.priority.k3')))).toEqual({
      'sinks.restarted': ['k2', 'k3'], 'runners.removed': ['sinkgroup g1'],
      'runners.added': ['sink k2', 'sink k3'] })
  })

  it('components added and removed', () => {
    const text = edit(BASE, 'a1.sources = r1', 'a1.channels = c1 c3', 'a1.sinks = k1 k4',
      '-a1.sinkgroups', 'a1.channels.c3.type = memory', 'a1.sinks.k4.type = null',
      'a1.sinks.k4.channel = c3')
    expect(changed(planFor(text))).toEqual({
      'channels.added': ['c3'], 'channels.removed': ['c2'], 'sources.removed': ['r2'],
      'sinks.added': ['k4'], 'sinks.removed': ['k2', 'k3'], 'runners.added': ['sink k4'],
      'runners.removed': ['sinkgroup g1'] })
  })

  it('a ${…} reference by the value it resolves to', () => {
    const before = edit(BASE, 'a1.sinks.k1.batchSize = ${a1.defaults.batch}')
    const plan = planReload(load(`${before}a1.defaults.batch = 10\n`),
      load(`${before}a1.defaults.batch = 20\n`))
    expect(changed(plan)).toEqual({ 'sinks.restarted': ['k1'], 'runners.restarted': ['sink k1'] })
  })
})

describe('which candidates are refused', () => {
  it('one that prunes a running component, naming file, line and key', () => {
    const broken = load(edit(BASE, 'a1.sinks.k1.type = nosuch'))
    expect(refusalsOf(broken, load(BASE))).toEqual([expect.stringMatching(
      /^a\.conf:\d+: a1\.sinks\.k1\.type: Sink k1 has been removed: .*"nosuch" is not a known /)])
    const noChannel = load(edit(BASE, '-a1.channels.c1.type'))
    expect(refusalsOf(noChannel, load(BASE)).join('\n')).toMatch(
      /a1\.channels\.c1\.type: Channel c1 has been removed: Component has no type/)
  })

  it('one that adds a component it cannot build', () => {
    const added = load(edit(BASE, 'a1.sinks = k1 k2 k3 k9', 'a1.sinks.k9.type = file_roll',
      'a1.sinks.k9.channel = c1'))
    expect(refusalsOf(added, load(BASE))).toEqual([expect.stringMatching(
      /a1\.sinks\.k9\.sink\.directory: Sink k9 has been removed: .*is required/)])
  })

  it('not one whose only pruning was already there when the agent started', () => {
    const prunedAtStart = edit(BASE, 'a1.sinks = k1 k2 k3 k9', 'a1.sinks.k9.type = nosuch',
      'a1.sinks.k9.channel = c1')
    const running = load(prunedAtStart)
    expect(running.graph.sinks.has('k9')).toBe(false)
    const next = load(edit(prunedAtStart, 'a1.sinks.k1.batchSize = 5'))
    expect(refusalsOf(next, running)).toEqual([])
    expect(changed(planReload(running, next))).toEqual({ 'sinks.restarted': ['k1'],
      'runners.restarted': ['sink k1'] })
  })
})
