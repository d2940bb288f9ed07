/** The HTTP status codes the relay answers with itself (RFC 9110 §15), by name. */
export const HttpStatus = {
  Continue: 100,
  NotFound: 404,
  TooManyRequests: 429,
  BadGateway: 502,
  ServiceUnavailable: 503,
  GatewayTimeout: 504,
} as const;
