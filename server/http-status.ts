/** The HTTP status codes the relay answers with itself (RFC 9110 §15), by name. */
export const HttpStatus = {
  NotFound: 404,
  BadGateway: 502,
  GatewayTimeout: 504,
} as const;
