/**
 * A java.util.Properties reader that remembers where each key came from, because Flume reads its
 * configuration with java.util.Properties and a compatible agent must parse the same files the
 * same way (reference §1.1):
 *
 *   - `key = value`, `key: value` or `key value`; leading whitespace ignored;
 *   - a line whose first non-blank character is `#` or `!` is a comment; there are no inline
 *     comments (`a = b # note` sets `b # note`);
 *   - an odd number of trailing backslashes continues the line, the next line's leading
 *     whitespace dropped; a comment line never continues;
 *   - escapes `\t \n \r \f \uXXXX`, and `\x` is `x`;
 *   - the last duplicate key wins (its line is the one reported).
 */
import { FlowConfigError } from './errors.js'

export interface PropertyEntry {
  key: string
  value: string
  /** 1-based line where the entry starts. */
  line: number
}

export function parseProperties(text: string, file: string): Map<string, PropertyEntry> {
  const entries = new Map<string, PropertyEntry>()
  const lines = text.split(/\r\n|\r|\n/)
  for (let i = 0; i < lines.length; i++) {
    const startLine = i + 1
    let logical = lines[i]!.replace(/^[ \t\f]+/, '')
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue
    while (endsWithContinuation(logical) && i + 1 < lines.length) {
      i++
      logical = logical.slice(0, -1) + lines[i]!.replace(/^[ \t\f]+/, '')
    }
    if (endsWithContinuation(logical)) logical = logical.slice(0, -1)
    const { key, value } = splitEntry(logical, file, startLine)
    entries.delete(key)
    entries.set(key, { key, value, line: startLine })
  }
  return entries
}

function endsWithContinuation(line: string): boolean {
  let slashes = 0
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) slashes++
  return slashes % 2 === 1
}

function splitEntry(logical: string, file: string, line: number)
  : { key: string; value: string } {
  let end = 0
  while (end < logical.length) {
    const char = logical[end]!
    if (char === '\\') {
      end += 2
      continue
    }
    if (char === '=' || char === ':' || char === ' ' || char === '\t' || char === '\f') break
    end++
  }
  let rest = logical.slice(end).replace(/^[ \t\f]+/, '')
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '')
  return {
    key: unescape(logical.slice(0, end), file, line),
    value: unescape(rest, file, line),
  }
}

const SIMPLE_ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' }

function unescape(text: string, file: string, line: number): string {
  if (!text.includes('\\')) return text
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!
    if (char !== '\\' || i + 1 >= text.length) {
      out += char
      continue
    }
    const next = text[++i]!
    if (next === 'u') {
      const hex = text.slice(i + 1, i + 5)
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        throw new FlowConfigError(file, line, text, 'Malformed \\uxxxx encoding')
      }
      out += String.fromCharCode(parseInt(hex, 16))
      i += 4
    } else {
      out += SIMPLE_ESCAPES[next] ?? next
    }
  }
  return out
}
