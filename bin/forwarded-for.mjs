// Preloaded into `next start` (node --import, lib/cli/processes.ts). Next.js 16 keeps an X-Forwarded-For the
// client sent as it is and sets the connection's address only when there is none (base-server.js:
// `headers['x-forwarded-for'] ??= socket.remoteAddress`), so without this a client names any address it likes.
// This appends the address of the connection this server accepted to every request's X-Forwarded-For, as a proxy
// does (nginx's $proxy_add_x_forwarded_for), before Next.js sees the request: its rightmost entry is always the
// peer's real address, and lib/auth/principal.ts counts RETRACE_TRUSTED_PROXIES entries from the right.
import http from "node:http";

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, request, ...rest) {
  if (event === "request" && request && request.headers) {
    // A connection closed before this point has no address left: "unknown" still stands in the peer's place.
    const peer = (request.socket && request.socket.remoteAddress) || "unknown";
    const sent = request.headers["x-forwarded-for"];
    request.headers["x-forwarded-for"] = sent ? `${sent}, ${peer}` : peer;
  }
  return emit.call(this, event, request, ...rest);
};
