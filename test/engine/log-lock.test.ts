// Proves one process at a time writes a log directory (`.lock`, a pid file): a second Log on a
// held directory, in this process or another, is refused naming the holder, and nothing it
// could have written reaches the log; a closed or crashed holder's directory opens again, with
// every acknowledged record intact.
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import * as path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { LOG_LOCK_FILE } from '../../src/engine/log.js'
import { Log } from '../../src/index.js'
import { distIndexUrl, tempDir, until } from '../helpers.js'

let scratch: ReturnType<typeof tempDir>
beforeEach(() => { scratch = tempDir() })
afterEach(() => scratch.remove())

it('refuses a second Log on a directory this process holds, and opens it once closed',
  async () => {
    const first = await Log.open({ dataDir: scratch.dir })
    await first.createTopic('t', { partitions: 1 })
    await first.append('t', 0, [{ value: Buffer.from('kept') }])
    await expect(Log.open({ dataDir: scratch.dir })).rejects.toMatchObject({
      code: 'SLUICE_ERR_DIRECTORY_LOCKED',
      message: expect.stringMatching(/held by another open Log in this process/),
    })
    await first.close()
    const again = await Log.open({ dataDir: scratch.dir })
    expect(again.offsets('t', 0).highWatermark).toBe(1)
    await again.close()
  })

it('refuses a directory another live process holds, naming its pid, and takes it over once ' +
  'that process is killed', async () => {
  // A file, not --input-type -e: worker threads inherit execArgv, and that flag breaks them.
  const script = path.join(scratch.dir, '..', `${path.basename(scratch.dir)}-holder.mjs`)
  writeFileSync(script, `
    const { Log } = await import(${JSON.stringify(distIndexUrl)})
    const log = await Log.open({ dataDir: ${JSON.stringify(scratch.dir)} })
    await log.createTopic('t', { partitions: 1 })
    await log.append('t', 0, [{ value: Buffer.from('acknowledged') }])
    process.stdout.write('ready\\n')
    setInterval(() => undefined, 1000)
  `)
  const holder = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  holder.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise((resolve) => holder.once('exit', resolve))
  try {
    await until('the holder to open the log', () => output.includes('ready'), 30_000)
    await expect(Log.open({ dataDir: scratch.dir })).rejects.toMatchObject({
      code: 'SLUICE_ERR_DIRECTORY_LOCKED',
      message: expect.stringContaining(`held by process ${holder.pid}`),
    })
  } finally {
    holder.kill('SIGKILL')
    await exited
    rmSync(script, { force: true })
  }
  const log = await Log.open({ dataDir: scratch.dir })
  expect(log.offsets('t', 0).highWatermark).toBe(1)
  await log.close()
}, 60_000)

it('takes over a lock that names no running process', async () => {
  writeFileSync(path.join(scratch.dir, LOG_LOCK_FILE), 'not a pid\n')
  const log = await Log.open({ dataDir: scratch.dir })
  await log.close()
})
