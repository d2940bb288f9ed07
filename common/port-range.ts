/** Port numbers and `LOW-HIGH` port ranges, as the relay's flags and its target rules write them. */

export const MAX_PORT = 65535;

/** Ports `low` to `high`, both included. */
export interface PortRange {
  low: number;
  high: number;
}

export interface PortRangeSyntax {
  /** Also accept a lone `PORT`, meaning PORT-PORT. */
  allowSinglePort?: boolean;
}

/**
 * Reads `LOW-HIGH` (or a lone `PORT` when allowed); null when the text has neither shape.
 * The bounds are left to isValidPortRange, so each caller can say which part was wrong.
 */
export function parsePortRange(text: string, syntax: PortRangeSyntax = {}): PortRange | null {
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (!match) return null;
  if (match[2] === undefined && !syntax.allowSinglePort) return null;
  const low = Number(match[1]);
  return { low, high: match[2] === undefined ? low : Number(match[2]) };
}

/** True for 1 <= low <= high <= MAX_PORT (port 0 means "any", never a port to use or match). */
export function isValidPortRange(range: PortRange): boolean {
  return range.low >= 1 && range.low <= range.high && range.high <= MAX_PORT;
}

export function portRangeIncludes(range: PortRange, port: number): boolean {
  return port >= range.low && port <= range.high;
}
