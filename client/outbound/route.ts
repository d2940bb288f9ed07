/** Which way a connection goes out: through the relay, dialled by the client itself, or refused here. */
export const Route = {
  Relay: 'relay',
  Direct: 'direct',
  Block: 'block',
} as const;
export type Route = (typeof Route)[keyof typeof Route];

export const ROUTES: readonly Route[] = [Route.Relay, Route.Direct, Route.Block];

export function isRoute(value: string): value is Route {
  return (ROUTES as readonly string[]).includes(value);
}
