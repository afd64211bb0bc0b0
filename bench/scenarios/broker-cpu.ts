/**
 * CPU accounting for the broker benchmark: who used how much CPU during one measured client run,
 * and which side that makes the bottleneck.
 *
 *   the broker   utime + stime of every thread of its process, and of its main thread alone,
 *                from /proc/<pid>/task/<tid>/stat (in clock ticks, CLK_TCK per second)
 *   the machine  busy time of all cores from the first line of /proc/stat, so what every other
 *                process used meanwhile can be told apart (the cores are shared)
 *   the client   bash's `times` for child processes (kcat, rdkafka_performance), and
 *                process.cpuUsage() for kafkajs, which runs in this process
 *
 * From these it derives CPU cost per MB and the ceilings it implies (see `ceilings`), and the
 * verdict: which side is the bottleneck, and what was observed (a side saturated a core, or all
 * cores were busy). Samples are only meaningful as differences (`cpuBetween`).
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import * as os from 'node:os'

const SATURATED_CORES = 0.85
const CLK_TCK = clockTicks()

function clockTicks(): number {
  const probe = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
  const ticks = Number(probe.stdout?.trim())
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100
}

export interface CpuSample {
  totalSec: number
  mainThreadSec: number
  /** busy CPU of the whole machine, every process (only meaningful as a difference) */
  machineSec: number
}

/** utime + stime of every thread of `pid` (fields 14 and 15 of stat, after the comm field). */
export function sampleCpu(pid: number): CpuSample {
  let totalTicks = 0
  let mainTicks = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue // a thread that ended between readdir and read
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    totalTicks += ticks
    if (Number(tid) === pid) mainTicks = ticks
  }
  return { totalSec: totalTicks / CLK_TCK, mainThreadSec: mainTicks / CLK_TCK,
    machineSec: machineBusySec() }
}

/** Busy CPU seconds of the whole machine so far (all cores), from the first line of /proc/stat. */
function machineBusySec(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1)
    .map(Number)
  // user nice system idle iowait irq softirq steal: busy is everything but idle and iowait.
  const busy = fields.slice(0, 8).reduce((sum, v, i) => (i === 3 || i === 4 ? sum : sum + v), 0)
  return busy / CLK_TCK
}

export function cpuBetween(before: CpuSample, after: CpuSample): CpuSample {
  return { totalSec: after.totalSec - before.totalSec,
    mainThreadSec: after.mainThreadSec - before.mainThreadSec,
    machineSec: after.machineSec - before.machineSec }
}

/** Parses bash's `times`: the second line is the children's user and system time. */
export function parseTimes(text: string): number {
  const lines = text.trim().split('\n').slice(-2)
  const seconds = (field: string) => {
    const match = /^(\d+)m([\d.]+)s$/.exec(field)
    if (match === null) throw new Error(`bench: cannot read bash times output: ${text}`)
    return Number(match[1]) * 60 + Number(match[2])
  }
  const [user, system] = (lines[1] ?? '').trim().split(/\s+/)
  return seconds(user ?? '') + seconds(system ?? '')
}

/** process.cpuUsage() (microseconds, user + system) in seconds. */
export function cpuSeconds(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1e6
}

/** One measured client run: what moved, how long it took, and what each side's CPU did. */
export interface ClientRun {
  /** this process's CPU during the run when the client is not this process (kcat) */
  benchCpuSec?: number
  records: number
  payloadBytes: number
  elapsedMs: number
  clientCpuSec: number
  broker: CpuSample
  config: string
}

/**
 * CPU cost per MB does not depend on who else shares the cores, so the ceilings it implies are
 * the fair answer to "who is the bottleneck" on a busy machine: the client can go no faster
 * than one core / its ms per MB (kafkajs is one thread; kcat does its work on about one), the
 * broker no faster than its main thread allows (the protocol runs there) nor than all cores
 * allow its total, and the pair no faster than all cores / their summed cost.
 */
export interface Ceilings {
  clientMBs: number
  brokerMBs: number
  machineMBs: number
}

export function ceilings(run: ClientRun): Ceilings {
  const mb = run.payloadBytes / 1e6
  const cores = os.availableParallelism()
  const perMb = (seconds: number) => Math.max(seconds, 1e-9) / mb
  return {
    clientMBs: 1 / perMb(run.clientCpuSec),
    brokerMBs: Math.min(1 / perMb(run.broker.mainThreadSec), cores / perMb(run.broker.totalSec)),
    machineMBs: cores / perMb(run.clientCpuSec + run.broker.totalSec),
  }
}

export interface Verdict {
  clientBound: boolean
  text: string
}

export function verdict(run: ClientRun): Verdict {
  const seconds = run.elapsedMs / 1000
  const clientCores = run.clientCpuSec / seconds
  const brokerCores = run.broker.totalSec / seconds
  const brokerMain = run.broker.mainThreadSec / seconds
  const cores = os.availableParallelism()
  const otherCores = otherProcessesCores(run)
  const shares = `client ${clientCores.toFixed(2)} cores, broker ${brokerCores.toFixed(2)} ` +
    `(main thread ${brokerMain.toFixed(2)}), other processes ${otherCores.toFixed(2)}, of ${cores}`
  const limit = ceilings(run)
  const clientBound = limit.clientMBs <= limit.brokerMBs
  const observed = clientCores + brokerCores + otherCores >= SATURATED_CORES * cores
    ? `all cores were busy${otherCores >= 0.25 ? ', other processes among them (contended)' : ''}`
    : Math.max(clientCores, brokerMain) >= SATURATED_CORES ? 'one side saturated a core'
      : 'no side saturated a core (waiting or round trips bound it)'
  return { clientBound, text: `${clientBound ? 'client' : 'broker'}-bound by CPU cost: client ` +
    `ceiling ${limit.clientMBs.toFixed(0)} MB/s, broker ${limit.brokerMBs.toFixed(0)} MB/s, both ` +
    `on ${cores} cores ${limit.machineMBs.toFixed(0)} MB/s; measured ${shares}; ${observed}` }
}

/** What the rest of the machine (not this bench, not the broker, not kcat) used meanwhile. */
export function otherProcessesCores(run: ClientRun): number {
  const seconds = run.elapsedMs / 1000
  const bench = run.benchCpuSec ?? 0
  return Math.max(0, (run.broker.machineSec - run.broker.totalSec - run.clientCpuSec - bench)
    / seconds)
}
