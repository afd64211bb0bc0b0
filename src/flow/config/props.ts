/**
 * Typed reads of one component's properties. Every failure is a FlowConfigError naming the file,
 * the line and the full key (or, for a missing required key, the line where the component is
 * first mentioned), so `sluice agent` can say exactly what to fix.
 */
import { FlowConfigError } from './errors.js'
import type { ComponentConf, Prop } from './grammar.js'

/** Every property some builder has looked at; what is left over was never used. */
const used = new WeakSet<Prop>()

export class Props {
  constructor(readonly conf: ComponentConf, readonly file: string, readonly agent: string) {}

  get name(): string {
    return this.conf.name
  }

  fullKey(key: string): string {
    return `${this.agent}.${this.conf.list}.${this.conf.name}.${key}`
  }

  raw(key: string): Prop | undefined {
    const prop = this.conf.props.get(key)
    if (prop !== undefined) used.add(prop)
    return prop
  }

  /** Properties of this component no builder read: typos, or keys sluice does not use. */
  unused(): Prop[] {
    return [...this.conf.props.values()].filter((prop) => !used.has(prop))
  }

  has(key: string): boolean {
    return this.raw(key) !== undefined
  }

  fail(key: string, message: string): FlowConfigError {
    const prop = this.raw(key)
    return new FlowConfigError(this.file, prop?.line ?? this.conf.line,
      prop?.key ?? this.fullKey(key), message)
  }

  string(key: string, fallback: string): string {
    return this.raw(key)?.value ?? fallback
  }

  required(key: string): string {
    const value = this.raw(key)?.value
    if (value === undefined) throw this.fail(key, 'is required')
    return value
  }

  /** An integer in [min, max]; Flume's parsers reject fractions and text. */
  int(key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const prop = this.raw(key)
    if (prop === undefined) return fallback
    const value = Number(prop.value)
    if (!/^-?\d+$/.test(prop.value) || !Number.isSafeInteger(value)) {
      throw this.fail(key, `expected an integer, got ${JSON.stringify(prop.value)}`)
    }
    if (value < min || value > max) {
      throw this.fail(key, `must be between ${min} and ${max}, got ${value}`)
    }
    return value
  }

  number(key: string, fallback: number, min = 0): number {
    const prop = this.raw(key)
    if (prop === undefined) return fallback
    const value = Number(prop.value)
    if (prop.value.trim() === '' || !Number.isFinite(value) || value < min) {
      throw this.fail(key, `expected a number ≥ ${min}, got ${JSON.stringify(prop.value)}`)
    }
    return value
  }

  bool(key: string, fallback: boolean): boolean {
    const prop = this.raw(key)
    if (prop === undefined) return fallback
    const lower = prop.value.toLowerCase()
    if (lower !== 'true' && lower !== 'false') {
      throw this.fail(key, `expected true or false, got ${JSON.stringify(prop.value)}`)
    }
    return lower === 'true'
  }

  regex(key: string, fallback: string): RegExp {
    const source = this.string(key, fallback)
    try {
      return new RegExp(source)
    } catch (error) {
      throw this.fail(key, `is not a valid regular expression: ${(error as Error).message}`)
    }
  }

  /** Property names under `prefix.` (e.g. 'selector.mapping' → ['CA', 'AZ']). */
  under(prefix: string): string[] {
    const names: string[] = []
    for (const key of this.conf.props.keys()) {
      if (key.startsWith(`${prefix}.`)) names.push(key.slice(prefix.length + 1))
    }
    return names
  }

  /** A view of the properties under `prefix.` as their own component (interceptors). */
  child(prefix: string): Props {
    const props = new Map<string, Prop>()
    for (const [key, prop] of this.conf.props) {
      if (key.startsWith(`${prefix}.`)) props.set(key.slice(prefix.length + 1), prop)
    }
    const line = Math.min(...[...props.values()].map((p) => p.line), this.conf.line)
    return new Props({ list: this.conf.list, name: `${this.conf.name}.${prefix}`, props, line },
      this.file, this.agent)
  }
}
