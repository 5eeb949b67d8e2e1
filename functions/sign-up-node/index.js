'use strict';
// sign-up-node: an FC 3.0 HTTP function. POST {"email": ..., "name": ...} registers the user and answers 202 at
// once; the welcome mail is sent by send-email-node, invoked asynchronously (with a delay) through FC's API, the
// way a function does in FC: @alicloud/fc2 (built into FC's Node.js runtime), the region's internal endpoint, the
// role's credentials.
const FCClient = require('@alicloud/fc2');

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const answer = (statusCode, document) => ({
  statusCode, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(document),
});

exports.handler = async (event, context) => {
  const request = JSON.parse(event.toString());
  let user;
  try {
    user = JSON.parse(request.isBase64Encoded ? Buffer.from(request.body, 'base64').toString() : request.body);
  } catch (error) {
    return answer(400, { error: 'send {"email": ..., "name": ...}' });
  }
  if (!user || typeof user.email !== 'string' || !EMAIL.test(user.email)) {
    return answer(400, { error: `not an e-mail address: ${JSON.stringify(user && user.email)}` });
  }
  const client = new FCClient(context.accountId, {
    accessKeyID: context.credentials.accessKeyId,
    accessKeySecret: context.credentials.accessKeySecret,
    securityToken: context.credentials.securityToken,
    region: context.region,
    internal: true,
    secure: true,
  });
  const reply = await client.invokeFunction(context.service.name, process.env.MAILER,
    JSON.stringify({ to: user.email, name: user.name || 'there' }),
    { 'x-fc-invocation-type': 'Async', 'x-fc-async-delay': process.env.MAIL_DELAY_SECONDS || '1' });
  const mailRequest = reply.headers['x-fc-request-id'];
  console.log(`registered ${user.email}; welcome mail queued as ${mailRequest}`);
  return answer(202, { registered: user.email, mailRequestId: mailRequest });
};
