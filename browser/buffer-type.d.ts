/**
 * protocol/frame.ts names Node's Buffer in its frame types; the browser module imports only the
 * constants beside them, so here a Buffer is just bytes. Nothing else may use it: the bundle test
 * checks that no Node API reaches dist/browser/sockbridge.js.
 */
type Buffer = Uint8Array;
