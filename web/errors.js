// Errors that cross a boundary carry a stable code, the key of the setting they concern, and a
// message for people (protocol.md, "Errors"), as the web platform's own do (a DOMException's
// name). The page branches on the code, never on the message. Go's errors arrive so from the
// workers (session/errors.go, through wasm/bridge_js.go); the page makes its own, for the
// workers' failures and the host page's commands, with the same shape.

/** CodedError is an Error with code (protocol.md lists them) and key, the setting at fault ('' for none). */
export class CodedError extends Error {
  constructor(code, message, key = '') {
    super(message);
    this.code = code;
    this.key = key;
  }
}
