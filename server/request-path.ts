/** The path of an HTTP request-target, for routing the relay's upgrades and probes. */

/** Null for a target no URL parser takes (`GET http://[`): such a request is no tunnel or Wisp request, and must not end the process. */
export function requestPath(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://relay').pathname;
  } catch {
    return null;
  }
}
