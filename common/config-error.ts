/** A setting that cannot be used: names the flag (or file) at fault, so the CLI can say which. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function checkPositive(setting: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(setting, `must be a positive number, got ${value}`);
}
