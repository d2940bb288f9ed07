/**
 * Tokens given with --token have no names of their own: they are called token-1, token-2…
 * by position, so status and logs can say which one matched without showing it.
 */
const PREFIX = 'token-';
const CLI_TOKEN_NAME = new RegExp(`^${PREFIX}\\d+$`);

/** The name of the --token token at `index` (0-based): token-1 for the first. */
export function cliTokenName(index: number): string {
  return `${PREFIX}${index + 1}`;
}

/** True for a name of that form, which a users-file user must not take. */
export function isCliTokenName(name: string): boolean {
  return CLI_TOKEN_NAME.test(name);
}
