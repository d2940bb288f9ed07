/**
 * The WebSocket close codes sockbridge sends (RFC 6455 §7.4.1), for the Node session, the
 * browser's and Wisp. Plain numbers only, so the browser bundle can import them.
 */

/** 1000: the purpose the connection was made for is fulfilled. */
export const WS_CLOSE_NORMAL = 1000;
/** 1001: the server is going away (a draining relay). */
export const WS_CLOSE_GOING_AWAY = 1001;
