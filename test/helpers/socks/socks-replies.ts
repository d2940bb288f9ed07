/**
 * SOCKS5 reply codes (RFC 1928 §6) that the tests expect. Written out here rather than
 * imported from the product, so a wrong value there fails a test instead of agreeing with it.
 */
/** "succeeded" */
export const REP_SUCCEEDED = 0x00;
/** "general SOCKS server failure": what a request over a relay limit, or with no tunnel, gets. */
export const REP_GENERAL_FAILURE = 0x01;
/** "connection not allowed by ruleset" */
export const REP_NOT_ALLOWED = 0x02;
