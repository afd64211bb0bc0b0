/**
 * Binding the agents' servers (netcat, http, metrics): a bind that fails at start (the port is
 * taken, the address is not this machine's, a privileged port) is a configuration problem the
 * user must see named, so it becomes SLUICE_ERR_FLOW_CONFIG with the component and the address,
 * never a raw stack trace.
 */
import type { Server } from 'node:net'
import { SluiceError } from '../errors.js'

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EADDRNOTAVAIL: 'the address is not one of this machine\'s',
  EACCES: 'permission denied (ports below 1024 need privileges)',
}

/** Listens on bind:port; resolves once bound, rejects with a typed error naming `owner`. */
export function listenServer(server: Server, port: number, bind: string, owner: string)
  : Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => {
      const reason = error.code === undefined ? error.message : REASONS[error.code]
      reject(new SluiceError('SLUICE_ERR_FLOW_CONFIG', `${owner}: cannot listen on ` +
        `${bind}:${port}: ${reason ?? error.message} (${error.code ?? 'error'})`,
      { cause: error }))
    }
    server.once('error', fail)
    server.listen(port, bind, () => {
      server.off('error', fail)
      resolve()
    })
  })
}
