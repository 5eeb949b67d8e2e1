'use strict';
// Sends a registration mail: FC's example of work a sign-up endpoint hands off asynchronously. A few lines of
// SMTP over `net` keep it free of npm packages (a real project would use nodemailer from node_modules/).
const net = require('net');

function smtpSend({ host, port, from, to, lines }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(5000, () => socket.destroy(new Error(`SMTP ${host}:${port} timed out`)));
    const commands = [`HELO fc`, `MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA',
      `${lines.join('\r\n').replace(/^\./gm, '..')}\r\n.`, 'QUIT'];
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString();
      // Each complete reply (a line whose code is followed by a space) lets the next command go.
      let end;
      while ((end = buffered.search(/^\d{3} .*\r?\n/m)) !== -1) {
        const match = buffered.slice(end).match(/^(\d{3}) .*\r?\n/m);
        buffered = buffered.slice(end + match[0].length);
        if (Number(match[1]) >= 400) return socket.destroy(new Error(`SMTP refused: ${match[0].trim()}`));
        const next = commands.shift();
        if (next === undefined) return socket.end();
        socket.write(`${next}\r\n`);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => (commands.length ? reject(new Error('SMTP connection closed early')) : resolve()));
  });
}

exports.handler = async (event, context) => {
  const request = JSON.parse(event.toString());
  const to = request.to;
  const name = request.name || 'there';
  const from = process.env.MAIL_FROM || 'noreply@example.com';
  const host = process.env.SMTP_HOST || 'host.docker.internal';
  const port = Number(process.env.SMTP_PORT || 1025);
  await smtpSend({
    host, port, from, to,
    lines: [`From: ${from}`, `To: ${to}`, 'Subject: Welcome aboard', `X-Request-Id: ${context.requestId}`,
      'Content-Type: text/plain; charset=utf-8', '', `Hello ${name},`, '', 'your registration is complete.'],
  });
  console.log(`registration mail sent to ${to} through ${host}:${port}`);
  return { sent: true, to };
};
