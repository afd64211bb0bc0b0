// Proves the configuration watcher polls by content: touching the file or saving it unchanged
// calls nothing; a new content is handed over once, whether written in place or renamed over
// the file as editors do; a missing file is reported once, not on every poll, and its return
// with new content is picked up.
import { renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { NodeFileSystem } from '../../src/io/node-file-system.js'
import { ConfigWatcher } from '../../src/flow/reload/config-watcher.js'
import { tempDir, until } from '../helpers.js'
import { capturingLogger } from './flow-helpers.js'

const scratch = tempDir('sluice-reload-watch-')
afterAll(() => scratch.remove())

it('hands over changed content only, and reports a missing file once', async () => {
  const file = path.join(scratch.dir, 'agent.conf')
  writeFileSync(file, 'one\n')
  const logger = capturingLogger()
  const seen: string[] = []
  const watcher = new ConfigWatcher(file, 10, new NodeFileSystem(), logger,
    async (text) => { seen.push(text) }, 'one\n')
  watcher.start()
  const pollsFrom = async (count: number): Promise<void> => {
    const start = watcher.polls
    await until(`${count} polls`, () => watcher.polls >= start + count, 20_000)
  }
  try {
    await pollsFrom(2)
    const later = new Date(Date.now() + 5000)
    utimesSync(file, later, later)
    writeFileSync(file, 'one\n')
    await pollsFrom(3)
    expect(seen).toEqual([])

    writeFileSync(file, 'two\n')
    await until('the in-place change', () => seen.length === 1)
    writeFileSync(`${file}.tmp`, 'three\n')
    renameSync(`${file}.tmp`, file)
    await until('the renamed-over change', () => seen.length === 2)
    await pollsFrom(3)
    expect(seen).toEqual(['two\n', 'three\n'])

    rmSync(file)
    await pollsFrom(4)
    expect(logger.warnings.filter((line) => line.includes(`cannot read ${file}`))).toHaveLength(1)
    writeFileSync(file, 'four\n')
    await until('the file back with new content', () => seen.length === 3)
    expect(seen[2]).toBe('four\n')
  } finally {
    await watcher.stop()
  }
  const polls = watcher.polls
  writeFileSync(file, 'five\n')
  // Stopped: a fresh watcher on the same file sees the change, the stopped one never does.
  const control: string[] = []
  const fresh = new ConfigWatcher(file, 10, new NodeFileSystem(), logger,
    async (text) => { control.push(text) }, 'four\n')
  fresh.start()
  await until('the fresh watcher sees it', () => control.length === 1)
  await fresh.stop()
  expect(watcher.polls).toBe(polls)
  expect(seen).toHaveLength(3)
})
