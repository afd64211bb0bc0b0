/**
 * TLS for the avro source and sink, from Flume's keys, with Node's tls doing the protocol.
 *
 * Key and trust stores (read at start(), so `--validate` opens no file):
 *   PKCS12  the source's keystore is given to Node as `pfx` with keystore-password.
 *   JKS     Flume's default type. Java reads a PKCS12 file under that type too, so a file that is
 *           PKCS12 inside is accepted; a real JKS file (magic FE ED FE ED) cannot be read by
 *           Node and is refused with the keytool command that converts it.
 *   PEM     a sluice extension: the keystore file holds the private key and certificate chain
 *           (keystore-password decrypts an encrypted key); the truststore file holds the CA
 *           certificates. Node cannot take trust anchors from a PKCS12 file without a key, so a
 *           PKCS12 or JKS truststore is refused with the command that exports it to PEM.
 * With ssl and no truststore, the sink trusts Node's CA bundle (Flume: the JVM's cacerts);
 * `trust-all-certs = true` skips verification, as in Flume.
 *
 * `exclude-protocols` / `include-protocols` name Java's protocol names (SSLv3 TLSv1 TLSv1.1
 * TLSv1.2 TLSv1.3); SSLv3 is always excluded, as Flume does. Node never offers below TLSv1.2
 * by default, so the lists can only narrow TLSv1.2 and TLSv1.3.
 */
import * as crypto from 'node:crypto'
import * as tls from 'node:tls'
import { SluiceError } from '../../errors.js'
import { NodeFileSystem } from '../../io/index.js'

export type StoreType = 'JKS' | 'PKCS12' | 'PEM'
export const STORE_TYPES: readonly StoreType[] = ['JKS', 'PKCS12', 'PEM']

export interface StoreSettings {
  /** The property that named the file, for error messages (e.g. `a1.sources.r1.keystore`). */
  key: string
  path: string
  password: string | null
  type: StoreType
}

export interface ProtocolSettings {
  exclude: string[]
  include: string[] | null
}

export interface ServerTlsSettings {
  keystore: StoreSettings
  protocols: ProtocolSettings
}

export interface ClientTlsSettings {
  trustAllCerts: boolean
  truststore: StoreSettings | null
  protocols: ProtocolSettings
}

const NODE_PROTOCOLS: Record<string, number> = {
  'TLSv1.2': crypto.constants.SSL_OP_NO_TLSv1_2,
  'TLSv1.3': crypto.constants.SSL_OP_NO_TLSv1_3,
}
const JAVA_PROTOCOLS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']
const JKS_MAGIC = 0xfeedfeed

/** Checks the protocol lists (config time); returns the OpenSSL option bits that apply them. */
export function protocolOptions(protocols: ProtocolSettings): number {
  for (const name of [...protocols.exclude, ...(protocols.include ?? [])]) {
    if (!JAVA_PROTOCOLS.includes(name)) {
      throw new Error(`unknown protocol ${JSON.stringify(name)} (known: ` +
        `${JAVA_PROTOCOLS.join(' ')})`)
    }
  }
  let bits = 0
  const enabled = Object.keys(NODE_PROTOCOLS).filter((name) =>
    !protocols.exclude.includes(name)
    && (protocols.include === null || protocols.include.includes(name)))
  if (enabled.length === 0) {
    throw new Error('leaves no protocol enabled (sluice speaks TLSv1.2 and TLSv1.3)')
  }
  for (const [name, bit] of Object.entries(NODE_PROTOCOLS)) {
    if (!enabled.includes(name)) bits |= bit
  }
  return bits
}

function storeError(store: StoreSettings, owner: string, reason: string): SluiceError {
  return new SluiceError('SLUICE_ERR_FLOW_CONFIG', `${owner}: ${store.key} = ${store.path}: ` +
    reason)
}

function readStore(store: StoreSettings, owner: string): Buffer {
  let bytes: Buffer | null
  try {
    bytes = new NodeFileSystem().readFile(store.path)
  } catch (error) {
    throw storeError(store, owner, `cannot be read (${(error as Error).message})`)
  }
  if (bytes === null) throw storeError(store, owner, 'no such file')
  if (bytes.byteLength >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC) {
    throw storeError(store, owner, 'is a JKS keystore, which Node cannot read. Convert it to ' +
      `PKCS12 with: keytool -importkeystore -srckeystore ${store.path} -destkeystore ` +
      `${store.path}.p12 -deststoretype PKCS12, then point ${store.key} at the .p12 file and ` +
      'set its type to PKCS12')
  }
  return bytes
}

const isPem = (bytes: Buffer): boolean => bytes.subarray(0, 64).toString('latin1')
  .includes('-----BEGIN')

/** The source's certificate and key, as the secure context every connection shares. */
export function loadServerTls(settings: ServerTlsSettings, owner: string): tls.SecureContext {
  const store = settings.keystore
  const bytes = readStore(store, owner)
  const passphrase = store.password ?? undefined
  const options: tls.SecureContextOptions = store.type === 'PEM' || isPem(bytes)
    ? { key: bytes, cert: bytes, passphrase } : { pfx: bytes, passphrase }
  options.secureOptions = protocolOptions(settings.protocols)
  try {
    // Fails now, naming the file, rather than on the first client's handshake.
    return tls.createSecureContext(options)
  } catch (error) {
    throw storeError(store, owner, `does not hold a usable key and certificate for its type ` +
      `${store.type} with the password given (${(error as Error).message})`)
  }
}

/** The sink's trust settings. */
export function loadClientTls(settings: ClientTlsSettings, owner: string)
  : tls.ConnectionOptions {
  const options: tls.ConnectionOptions = {
    rejectUnauthorized: !settings.trustAllCerts,
    secureOptions: protocolOptions(settings.protocols),
  }
  const store = settings.truststore
  if (store === null || settings.trustAllCerts) return options
  const bytes = readStore(store, owner)
  if (!isPem(bytes)) {
    throw storeError(store, owner, `is a ${store.type} truststore; Node takes trusted ` +
      `certificates as PEM only. Export them with: openssl pkcs12 -in ${store.path} -nokeys ` +
      `-out ca.pem (or keytool -exportcert -rfc -keystore ${store.path} -alias <alias> ` +
      '-file ca.pem), then set truststore-type = PEM')
  }
  options.ca = bytes
  return options
}
