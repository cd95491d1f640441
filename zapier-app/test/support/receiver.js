'use strict';
/**
 * A local HTTP server standing in for Zapier's hook URL: it records every request exactly as it
 * arrived (raw body, headers) and answers with a chosen status.
 */
const http = require('http');

const startReceiver = (status = 200) => new Promise((resolve, reject) => {
  const requests = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const captured = { method: req.method, url: req.url, headers: req.headers, content: Buffer.concat(chunks).toString('utf8') };
      requests.push(captured);
      res.writeHead(receiver.status, { 'Content-Type': 'application/json' });
      res.end(receiver.status < 300 ? '{"status":"success"}' : '{"status":"gone"}');
      waiters.splice(0).forEach((wake) => wake());
    });
  });
  const receiver = {
    status,
    requests,
    url: null,
    /** Resolves with the `count`-th request (1-based) once it has arrived, failing after `timeoutMs`. */
    nth: (count, timeoutMs = 20000) => new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (requests.length >= count) {
          clearTimeout(timer);
          done(requests[count - 1]);
        } else {
          waiters.push(check);
        }
      };
      check();
    }),
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    receiver.url = `http://127.0.0.1:${server.address().port}/hooks/standard/1/abc/`;
    resolve(receiver);
  });
});

/**
 * The captured request the way Zapier hands it to `perform`: `Http-` + Camel-Case header names
 * (Content-Type and Content-Length keep theirs), the raw body as `content`.
 */
const asZapierRawRequest = (captured) => {
  const headers = {};
  for (const [name, value] of Object.entries(captured.headers)) {
    const camel = name.split('-').map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join('-');
    headers[['content-type', 'content-length'].includes(name) ? camel : `Http-${camel}`] = value;
  }
  return { method: captured.method, querystring: '', headers, content: captured.content };
};

module.exports = { startReceiver, asZapierRawRequest };
