/**
 * Configuration problems. A FlowConfigError is the typed error (SLUICE_ERR_FLOW_CONFIG) whose
 * message always starts `file:line: key:` so a person can jump to the culprit; a ConfigProblem is
 * one finding of Flume's pruning validation, carrying Flume's own error code (reference §9.1)
 * and what was dropped.
 */
import { SluiceError } from '../../errors.js'

export class FlowConfigError extends SluiceError {
  constructor(readonly file: string, readonly line: number, readonly key: string,
    readonly detail: string) {
    super('SLUICE_ERR_FLOW_CONFIG', `${file}:${line}: ${key}: ${detail}`)
  }
}

/** Flume's FlumeConfigurationErrorType names, so expectations can be checked against Flume's. */
export type FlumeErrorCode =
  | 'AGENT_NAME_MISSING' | 'PROPERTY_VALUE_NULL' | 'CONFIG_ERROR' | 'ATTRS_MISSING'
  | 'PROPERTY_PART_OF_ANOTHER_GROUP' | 'AGENT_CONFIGURATION_INVALID' | 'INVALID_PROPERTY'
  | 'DUPLICATE_PROPERTY'

export type ComponentKind = 'source' | 'channel' | 'sink' | 'sinkgroup' | 'agent' | 'property'

export interface ConfigProblem {
  code: FlumeErrorCode
  kind: ComponentKind
  /** The component dropped (or the agent), '' for a property-level finding. */
  component: string
  file: string
  line: number
  key: string
  message: string
}

export function describeProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}: ${problem.key}: ${problem.message} [${problem.code}]`
}

/** A validation finding raised as an error (strict mode, or a refused agent). */
export class ProblemError extends FlowConfigError {
  constructor(readonly problem: ConfigProblem) {
    super(problem.file, problem.line, problem.key, `${problem.message} [${problem.code}]`)
  }
}

export function problemError(problem: ConfigProblem): ProblemError {
  return new ProblemError(problem)
}
