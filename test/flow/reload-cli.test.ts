// Proves `sluice agent` reloads its file while it runs: rewriting the file under a running
// process logs the reload line naming what restarted, a broken rewrite logs its refusal (file,
// line, key) and the process keeps delivering; a twin started with --no-reload-conf on the
// same file never reloads; a bad --reload-interval is refused before anything starts.
import { renameSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { tempDir, until } from '../helpers.js'
import { httpSourcePort, killLeftoverProcesses, runCli } from './cli-process.js'
import { HTTP_AGENT_A1, postEvents } from './flow-helpers.js'

const scratch = tempDir('sluice-reload-cli-')
afterAll(async () => {
  await killLeftoverProcesses()
  scratch.remove()
})

const CONF = (sinkLines: string): string => `${HTTP_AGENT_A1}a1.channels.c1.type = memory
a1.sinks.k1.channel = c1
${sinkLines}`

function replaceFile(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text)
  renameSync(`${file}.tmp`, file)
}

const count = (text: string, pattern: RegExp): number => text.match(pattern)?.length ?? 0

it('reloads on a rewrite, refuses a broken one and keeps going; --no-reload-conf does not',
  async () => {
    const file = path.join(scratch.dir, 'agent.conf')
    writeFileSync(file, CONF('a1.sinks.k1.type = null\n'))
    const watching = runCli(['agent', '-f', file, '-n', 'a1', '--reload-interval', '0.05'])
    const fixed = runCli(['agent', '-f', file, '-n', 'a1', '--no-reload-conf', '-i', '0.05'])
    await until('both agents to start', () => watching.output().includes('watching ')
      && fixed.output().includes('not watching'), 20_000)
    expect(watching.output()).toContain(`watching ${file} for changes every 0.05 s`)

    replaceFile(file, CONF('a1.sinks.k1.type = null\na1.sinks.k1.batchSize = 10\n'))
    await until('the reload line', () => watching.output().includes(`reload of ${file} ` +
      'applied: restarted [sink k1], added [], removed []'), 20_000)

    replaceFile(file, CONF('a1.sinks.k1.type = nosuch\n'))
    await until('the refusal', () => watching.output().includes(`reload of ${file} refused`),
      20_000)
    expect(watching.output()).toMatch(new RegExp('refused; agent a1 keeps running as it was: ' +
      '.*agent\\.conf:10: a1\\.sinks\\.k1\\.type: Sink k1 has been removed: .*"nosuch"'))
    const port = httpSourcePort(watching.output())
    expect(await postEvents(port, [{ body: 'still here' }])).toBe(200)

    // Bounded by the watching twin's own polls: it has read the file three times over.
    replaceFile(file, CONF('a1.sinks.k1.type = logger\n'))
    await until('the third attempt', () => count(watching.output(), /reload of /g) >= 3, 20_000)
    const [watchingExit, fixedExit] = await Promise.all([watching.stop('SIGTERM'),
      fixed.stop('SIGTERM')])
    expect(watchingExit).toBe(0)
    expect(fixedExit).toBe(0)
    expect(fixed.output()).not.toContain('reload of')
    expect(fixed.output()).not.toContain('for changes every')
  })

it('refuses a --reload-interval that is not a positive number of seconds', async () => {
  const file = path.join(scratch.dir, 'interval.conf')
  writeFileSync(file, CONF('a1.sinks.k1.type = null\n'))
  const bad = runCli(['agent', '-f', file, '-n', 'a1', '--reload-interval', 'soon'])
  expect(await bad.exited).toBe(1)
  expect(bad.output()).toContain('--reload-interval must be a number of seconds above 0, got soon')
})
