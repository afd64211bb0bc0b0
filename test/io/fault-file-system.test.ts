// Proves the fault double does what tests rely on: ENOSPC after N bytes (partial landing, then
// every write fails), one-shot write and sync failures, torn writes, path filters, and power loss
// that keeps exactly the synced state (or a seeded, replayable prefix of the unsynced bytes).
import { describe, expect, it } from 'vitest'
import { FaultFileSystem } from '../../src/io/fault-file-system.js'
import { MemoryFileSystem } from '../../src/io/memory-file-system.js'

function setup(): { fs: FaultFileSystem; inner: MemoryFileSystem } {
  const inner = new MemoryFileSystem()
  inner.mkdirp('/d')
  return { fs: new FaultFileSystem(inner), inner }
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    return (error as NodeJS.ErrnoException).code
  }
  return undefined
}

describe('write faults', () => {
  it('lands bytes up to the budget, then fails that write and every later one', () => {
    const { fs, inner } = setup()
    const handle = fs.open('/d/f', 'create')
    fs.failWritesAfterBytes(6, 'ENOSPC')
    fs.writev(handle, [Buffer.from('abcd')], 0)
    expect(codeOf(() => fs.writev(handle, [Buffer.from('ef'), Buffer.from('gh')], 4)))
      .toBe('ENOSPC')
    expect(inner.readFile('/d/f')!.toString()).toBe('abcdef')
    expect(codeOf(() => fs.writev(handle, [Buffer.from('x')], 6))).toBe('ENOSPC')
    expect(codeOf(() => fs.writeFileAtomic('/d/cp', Buffer.from('x')))).toBe('ENOSPC')
    fs.clearFaults()
    fs.writev(handle, [Buffer.from('x')], 6)
    expect(inner.readFile('/d/f')!.toString()).toBe('abcdefx')
  })

  it('fails the next write only, landing nothing, and honours the path filter', () => {
    const { fs, inner } = setup()
    const log = fs.open('/d/a.log', 'create')
    const index = fs.open('/d/a.index', 'create')
    fs.failNextWrite('EIO', (p) => p.endsWith('.log'))
    fs.writev(index, [Buffer.from('i')], 0)
    expect(codeOf(() => fs.writev(log, [Buffer.from('lost')], 0))).toBe('EIO')
    expect(inner.readFile('/d/a.log')!.byteLength).toBe(0)
    fs.writev(log, [Buffer.from('ok')], 0)
    expect(inner.readFile('/d/a.log')!.toString()).toBe('ok')
    expect(fs.writevCalls.get('/d/a.log')).toBe(1)
  })

  it('tears the next write after keepBytes', () => {
    const { fs, inner } = setup()
    const handle = fs.open('/d/f', 'create')
    fs.tearNextWrite(3)
    expect(codeOf(() => fs.writev(handle, [Buffer.from('ab'), Buffer.from('cdef')], 0))).toBe('EIO')
    expect(inner.readFile('/d/f')!.toString()).toBe('abc')
  })

  it('fails the next fdatasync without marking the bytes synced', () => {
    const { fs } = setup()
    const handle = fs.open('/d/f', 'create')
    fs.writev(handle, [Buffer.from('abc')], 0)
    fs.failNextSync('EIO')
    expect(codeOf(() => fs.fdatasync(handle))).toBe('EIO')
    expect(fs.unsyncedBytes('/d/f')).toBe(3)
    fs.fdatasync(handle)
    expect(fs.unsyncedBytes('/d/f')).toBe(0)
  })
})

describe('crash', () => {
  it('keeps synced bytes, drops unsynced ones and names never made durable', () => {
    const { fs, inner } = setup()
    const kept = fs.open('/d/kept', 'create')
    fs.writev(kept, [Buffer.from('synced')], 0)
    fs.fdatasync(kept)
    fs.syncDirectory('/d')
    fs.writev(kept, [Buffer.from('-lost')], 6)
    const fresh = fs.open('/d/fresh', 'create')
    fs.writev(fresh, [Buffer.from('never durable')], 0)
    fs.fdatasync(fresh)
    const outcome = fs.crash()
    expect(outcome.removed).toEqual(['/d/fresh'])
    expect(outcome.truncated).toEqual([{ path: '/d/kept', fromBytes: 11, toBytes: 6 }])
    expect(inner.readFile('/d/kept')!.toString()).toBe('synced')
    expect(inner.stat('/d/fresh')).toBeNull()
    expect(codeOf(() => fs.writev(kept, [Buffer.from('x')], 0))).toBe('EBADF')
  })

  it('counts files that existed before it as synced, and writeFileAtomic as durable', () => {
    const { fs, inner } = setup()
    const handle = inner.open('/d/old', 'create')
    inner.writev(handle, [Buffer.from('old')], 0)
    inner.close(handle)
    fs.writeFileAtomic('/d/cp', Buffer.from('checkpoint'))
    const appended = fs.open('/d/old', 'readwrite')
    fs.writev(appended, [Buffer.from('+new')], 3)
    fs.crash()
    expect(inner.readFile('/d/old')!.toString()).toBe('old')
    expect(inner.readFile('/d/cp')!.toString()).toBe('checkpoint')
  })

  it('with a seed keeps a replayable random prefix of the unsynced bytes', () => {
    const run = (seed: number): string => {
      const { fs, inner } = setup()
      fs.syncDirectory('/d')
      const handle = fs.open('/d/f', 'create')
      fs.syncDirectory('/d')
      fs.writev(handle, [Buffer.from('0123456789abcdef')], 0)
      fs.crash({ seed })
      return inner.readFile('/d/f')!.toString()
    }
    const survivors = new Set<string>()
    for (let seed = 1; seed <= 20; seed++) {
      const kept = run(seed)
      expect('0123456789abcdef'.startsWith(kept)).toBe(true)
      expect(run(seed)).toBe(kept)
      survivors.add(kept)
    }
    expect(survivors.size).toBeGreaterThan(3)
  })
})
