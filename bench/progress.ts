/**
 * A progress bar on stderr, so stdout stays the results table. On a terminal the bar redraws in
 * place (`[#####-----] 5/10 12s append/1KiB/p8/fsync/none`); elsewhere (CI logs, pipes) each step
 * is one plain line. A silent reporter serves tests.
 */
export interface Progress {
  /** Announces the step about to run. */
  step(label: string): void
  /** Prints a message that must stay visible (a skip, a warning). */
  note(message: string): void
  done(): void
}

const BAR_WIDTH = 24

export function silentProgress(): Progress {
  return { step: () => undefined, note: () => undefined, done: () => undefined }
}

export function stderrProgress(totalSteps: number,
  stream: NodeJS.WriteStream = process.stderr): Progress {
  const started = Date.now()
  const interactive = stream.isTTY === true
  let current = 0
  let lastLine = ''
  const render = (label: string): string => {
    const filled = Math.round((Math.min(current, totalSteps) / Math.max(1, totalSteps)) * BAR_WIDTH)
    const seconds = ((Date.now() - started) / 1000).toFixed(0)
    return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ` +
      `${current}/${totalSteps} ${seconds}s ${label}`
  }
  const clear = () => {
    if (interactive && lastLine !== '') stream.write(`\r${' '.repeat(lastLine.length)}\r`)
  }
  return {
    step(label: string): void {
      current++
      const line = render(label)
      if (interactive) {
        clear()
        stream.write(line.slice(0, (stream.columns ?? 100) - 1))
      } else {
        stream.write(`${line}\n`)
      }
      lastLine = line
    },
    note(message: string): void {
      clear()
      stream.write(`${message}\n`)
      if (interactive && lastLine !== '') {
        stream.write(lastLine.slice(0, (stream.columns ?? 100) - 1))
      }
    },
    done(): void {
      clear()
      lastLine = ''
      stream.write(`bench finished in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
    },
  }
}
