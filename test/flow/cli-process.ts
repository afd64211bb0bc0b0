// Runs the built sluice CLI (dist/src/cli/main.js) in a child process, for the tests that need a
// real one: SIGKILL mid-stream, exit codes, a file reloaded under a running agent. Output is
// stdout and stderr as one text, in arrival order; the exit is awaited, never guessed; and a
// test file can SIGKILL whatever it left running (`afterAll(killLeftoverProcesses)`).
import { spawn, type ChildProcess } from 'node:child_process'
import * as path from 'node:path'
import { repoRoot, until } from '../helpers.js'
import { getText } from './flow-helpers.js'

export const CLI_MAIN = path.join(repoRoot, 'dist/src/cli/main.js')

export interface CliProcess {
  readonly child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** The exit code; null when a signal ended the process. */
  readonly exited: Promise<number | null>
  /**
   * Waits until the output matches `pattern` and returns the match. Fails at once, with the
   * output, if the process ends without printing it; otherwise after `timeoutMs`.
   */
  waitFor(pattern: RegExp, what: string, timeoutMs?: number): Promise<RegExpExecArray>
  /** Sends `signal` unless the process has ended already, and resolves with its exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>
}

/** Every process this file started that has not exited yet. */
const live = new Set<ChildProcess>()

/** Starts `node dist/src/cli/main.js ...args`. */
export function runCli(args: string[]): CliProcess {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let output = ''
  // 'close' comes after the last output chunk ('exit' may come before it).
  let closed = false
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.once('close', () => { closed = true })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    live.delete(child)
    resolve(code)
  }))
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, what, timeoutMs = 20_000) {
      await until(what, () => {
        if (pattern.test(output)) return true
        if (closed) throw new Error(`the process ended before ${what}; its output:\n${output}`)
        return false
      }, timeoutMs)
      return pattern.exec(output)!
    },
    stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }
}

export interface AgentProcess extends CliProcess {
  /** The port of the agent's HTTP metrics server. */
  readonly metricsPort: number
}

/**
 * Starts `sluice agent -f confFile -n agentName --metrics-port 0 ...extraArgs` and waits for the
 * line naming the metrics port, which the agent prints once every component has started.
 */
export async function startAgent(confFile: string, agentName: string, extraArgs: string[] = [],
  timeoutMs = 20_000): Promise<AgentProcess> {
  const agent = runCli(['agent', '-f', confFile, '-n', agentName, '--metrics-port', '0',
    ...extraArgs])
  const started = await agent.waitFor(/metrics on port (\d+)/, `agent ${agentName} to start`,
    timeoutMs)
  return { ...agent, metricsPort: Number(started[1]) }
}

/** The port the agent's HTTP source on 127.0.0.1 logged it listens on (HTTP_AGENT_A1's r1). */
export function httpSourcePort(output: string): number {
  const logged = /source \S+: http listening on 127\.0\.0\.1:(\d+)/.exec(output)
  if (logged === null) throw new Error(`no HTTP source port in the agent's output:\n${output}`)
  return Number(logged[1])
}

/** Whether the channel holds no event, as the agent's /metrics reports it. */
export async function channelEmpty(metricsPort: number, channel: string): Promise<boolean> {
  const metrics = JSON.parse((await getText(metricsPort, '/metrics')).body) as
    Record<string, Record<string, string>>
  return metrics[`CHANNEL.${channel}`]!.ChannelSize === '0'
}

/** SIGKILLs every process this test file started that is still running, and awaits each exit. */
export async function killLeftoverProcesses(): Promise<void> {
  await Promise.all([...live].map((child) => new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })))
}
