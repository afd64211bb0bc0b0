/**
 * The avro source's `ipFilter` / `ipFilterRules` (Flume's AvroSource + Netty's PatternRule;
 * reference §2.1): a comma-separated list of `allow|deny:ip|name:pattern`, tried in order, the
 * first rule that matches decides; a connection no rule matches is accepted (Netty's
 * IpFilterRuleHandler). Patterns are Java regular expressions over the whole address or host
 * name, with `.` literal, `*` any run of characters and `?` one character; `name:localhost`
 * matches the loopback addresses. A `name:` rule other than localhost needs the peer's host
 * name, so it costs a reverse DNS lookup (bounded by reverseLookupTimeoutMs; no answer means
 * the rule does not match).
 */
import { promises as dns } from 'node:dns'

export interface IpFilterRule {
  allow: boolean
  kind: 'ip' | 'name'
  /** As written, for log lines. */
  text: string
  pattern: RegExp | 'localhost'
}

const REVERSE_LOOKUP_TIMEOUT_MS = 2000
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/

/** Parses ipFilterRules; the error message says what a rule must look like. */
export function parseIpFilterRules(text: string): IpFilterRule[] {
  return text.split(',').map((written) => written.trim()).map((rule) => {
    const match = /^(allow|deny):(ip|name):(.+)$/.exec(rule)
    if (match === null) {
      throw new Error(`Invalid ipFilter patternRule '${rule}' should look like ` +
        `<'allow'  or 'deny'>:<'ip' or 'name'>:<pattern>`)
    }
    const [, access, kind, pattern] = match as unknown as [string, string, 'ip' | 'name', string]
    return { allow: access === 'allow', kind, text: rule,
      pattern: kind === 'name' && pattern === 'localhost' ? 'localhost' : wildcard(pattern) }
  })
}

function wildcard(pattern: string): RegExp {
  const source = pattern.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')
  try {
    return new RegExp(`^(?:${source})$`)
  } catch (error) {
    throw new Error(`Invalid ipFilter pattern '${pattern}': ${(error as Error).message}`)
  }
}

/** The first matching rule's verdict for `address` (true: accept); no match accepts. */
export async function ipFilterAccepts(rules: IpFilterRule[], address: string)
  : Promise<{ accepted: boolean; rule: string | null }> {
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address
  let hostNames: string[] | null = null
  for (const rule of rules) {
    let matches: boolean
    if (rule.pattern === 'localhost') matches = LOOPBACK.test(address)
    else if (rule.kind === 'ip') matches = rule.pattern.test(plain)
    else {
      hostNames ??= await reverseLookup(plain)
      const pattern = rule.pattern
      matches = hostNames.some((name) => pattern.test(name))
    }
    if (matches) return { accepted: rule.allow, rule: rule.text }
  }
  return { accepted: true, rule: null }
}

async function reverseLookup(address: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => resolve([]), REVERSE_LOOKUP_TIMEOUT_MS)
  })
  try {
    return await Promise.race([dns.reverse(address).catch(() => []), timeout])
  } finally {
    clearTimeout(timer)
  }
}
